#!/usr/bin/env bash
# Starts the local MariaDB and PostgreSQL the tests use, if they are not running yet
# (127.0.0.1:3306, root without password; 127.0.0.1:5432, trust).
set -euo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() {
  for _ in $(seq 1 60); do up "$1" && return 0; sleep 0.5; done
  echo "service on port $1 did not start" >&2; return 1
}
if ! up 3306; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for 3306
fi
if ! up 5432 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_for 5432
fi
