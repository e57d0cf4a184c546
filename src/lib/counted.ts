/** Passes `data` through, telling `onBytes` the length of each piece as it goes by. */
export async function* counted(
  data: AsyncIterable<Uint8Array>,
  onBytes: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const c of data) {
    onBytes(c.length)
    yield c
  }
}
