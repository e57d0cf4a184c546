;; Row packets to data-file lines (docs/FORMAT.md, "MySQL table data"), in WebAssembly with
;; 128-bit SIMD: a run of 16 bytes without a byte to escape is checked and stored in a few
;; instructions, where JavaScript handles each byte on its own (4-6 times the throughput on
;; the shop data set's rows). row-format-encoder.ts runs it; `npm run build:wasm` turns this
;; file into row-format-wasm.ts.
;;
;; Memory: bytes 0-255 hold each byte's escape letter (0 = copied as it is); the caller puts
;; the feed and the output area above them, each followed by 16 spare bytes, since a field is
;; read and written 16 bytes at a time.
(module
  (memory (export "memory") 1)
  ;; NUL -> \0, tab -> \t, newline -> \n, carriage return -> \r, backslash -> \\
  (data (i32.const 0) "\30\00\00\00\00\00\00\00\00\74\6e\00\00\72")
  (data (i32.const 92) "\5c")

  ;; encode(p, n, out) -> (end, rows): encodes the feed of framed row packets at [p, p + n)
  ;; (row-feeds.ts) into lines from `out`. An `end` of 0 is an error, and `rows` says which:
  ;; 1 a frame header runs past the feed's end, 2 a packet does, 3 a field runs past its
  ;; packet's end, 256 + the marker an unknown length marker.
  (func (export "encode") (param $p i32) (param $n i32) (param $out i32) (result i32 i32)
    (local $end i32) (local $at i32) (local $rows i32) (local $len i32) (local $to i32)
    (local $from i32) (local $tag i32) (local $fend i32) (local $v v128) (local $bits i32)
    (local $rem i32) (local $k i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (local.set $at (local.get $out))
    (block $done
      (loop $frames
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; A frame: 3-byte length and a sequence byte, or the long marker and a 4-byte length.
        (if (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
          (then (return (i32.const 0) (i32.const 1))))
        (local.set $len (i32.and (i32.load (local.get $p)) (i32.const 0xffffff)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (if (i32.eq (local.get $len) (i32.const 0xffffff))
          (then
            (if (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
              (then (return (i32.const 0) (i32.const 1))))
            (local.set $len (i32.load (local.get $p)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))))
        (if (i64.gt_u
              (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $len)))
              (i64.extend_i32_u (local.get $end)))
          (then (return (i32.const 0) (i32.const 2))))
        (local.set $to (i32.add (local.get $p) (local.get $len)))
        (local.set $from (local.get $p))
        (block $row_done
          (loop $fields
            (br_if $row_done (i32.ge_u (local.get $p) (local.get $to)))
            (if (i32.gt_u (local.get $p) (local.get $from))
              (then
                (i32.store8 (local.get $at) (i32.const 0x09))
                (local.set $at (i32.add (local.get $at) (i32.const 1)))))
            ;; A length-coded string (MySQL client/server protocol): one byte below 251, or a
            ;; marker byte and a 2-, 3- or 8-byte little-endian length; 0xFB alone is NULL.
            (local.set $tag (i32.load8_u (local.get $p)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (block $have_len
              (if (i32.lt_u (local.get $tag) (i32.const 0xfb))
                (then (local.set $len (local.get $tag)) (br $have_len)))
              (if (i32.eq (local.get $tag) (i32.const 0xfb))
                (then
                  (i32.store16 (local.get $at) (i32.const 0x4e5c)) ;; \N
                  (local.set $at (i32.add (local.get $at) (i32.const 2)))
                  (br $fields)))
              (if (i32.eq (local.get $tag) (i32.const 0xfc))
                (then
                  (local.set $len (i32.load16_u (local.get $p)))
                  (local.set $p (i32.add (local.get $p) (i32.const 2)))
                  (br $have_len)))
              (if (i32.eq (local.get $tag) (i32.const 0xfd))
                (then
                  (local.set $len (i32.and (i32.load (local.get $p)) (i32.const 0xffffff)))
                  (local.set $p (i32.add (local.get $p) (i32.const 3)))
                  (br $have_len)))
              (if (i32.eq (local.get $tag) (i32.const 0xfe))
                (then
                  (if (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $to))
                    (then (return (i32.const 0) (i32.const 3))))
                  ;; 4 GiB or more cannot be in a packet of this feed.
                  (if (i32.load offset=4 (local.get $p))
                    (then (return (i32.const 0) (i32.const 3))))
                  (local.set $len (i32.load (local.get $p)))
                  (local.set $p (i32.add (local.get $p) (i32.const 8)))
                  (br $have_len)))
              (return (i32.const 0) (i32.add (i32.const 256) (local.get $tag))))
            (if (i64.gt_u
                  (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $len)))
                  (i64.extend_i32_u (local.get $to)))
              (then (return (i32.const 0) (i32.const 3))))
            (local.set $fend (i32.add (local.get $p) (local.get $len)))
            ;; The field's bytes, 16 at a time: loaded, compared with the five bytes to escape
            ;; (matches past the field's end masked off) and stored whole; `at` and `p` then
            ;; move past the bytes up to the first match, which is written escaped.
            (block $field_done
              (loop $bytes
                (br_if $field_done (i32.ge_u (local.get $p) (local.get $fend)))
                (local.set $v (v128.load align=1 (local.get $p)))
                (local.set $bits
                  (i8x16.bitmask
                    (v128.or
                      (v128.or
                        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c)))
                        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x09))))
                      (v128.or
                        (v128.or
                          (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0a)))
                          (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0d))))
                        (i8x16.eq (local.get $v) (v128.const i64x2 0 0))))))
                (local.set $rem (i32.sub (local.get $fend) (local.get $p)))
                (if (i32.lt_u (local.get $rem) (i32.const 16))
                  (then
                    (local.set $bits
                      (i32.and (local.get $bits)
                        (i32.sub (i32.shl (i32.const 1) (local.get $rem)) (i32.const 1))))))
                (v128.store align=1 (local.get $at) (local.get $v))
                (if (i32.eqz (local.get $bits))
                  (then
                    (local.set $k
                      (select (local.get $rem) (i32.const 16)
                        (i32.lt_u (local.get $rem) (i32.const 16))))
                    (local.set $at (i32.add (local.get $at) (local.get $k)))
                    (local.set $p (i32.add (local.get $p) (local.get $k)))
                    (br $bytes)))
                (local.set $k (i32.ctz (local.get $bits)))
                (local.set $at (i32.add (local.get $at) (local.get $k)))
                (local.set $p (i32.add (local.get $p) (local.get $k)))
                (i32.store8 (local.get $at) (i32.const 0x5c))
                (i32.store8 offset=1 (local.get $at) (i32.load8_u (i32.load8_u (local.get $p))))
                (local.set $at (i32.add (local.get $at) (i32.const 2)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $bytes)))
            (br $fields)))
        (i32.store8 (local.get $at) (i32.const 0x0a))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (local.set $rows (i32.add (local.get $rows) (i32.const 1)))
        (br $frames)))
    (local.get $at) (local.get $rows)))
