#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite: `source .ci/postgres.sh; pg_throwaway_start`
# exports AISPEND_TEST_POSTGRES (a postgres:// URL with a password) and AISPEND_TEST_POSTGRES_CA (the
# test CA that signed the server's certificate, for sslmode=verify-full), and `pg_throwaway_stop` removes it all.
# The cluster lives in a temporary folder, listens on 127.0.0.1 on a free port, requires a password
# (scram-sha-256) and offers TLS. As root, the server runs as the `postgres` user (initdb refuses root).

pg_bin_dir() {
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    else
        ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
    fi
}

pg_free_port() {
    local port
    for port in $(seq "${1:-54320}" 54420); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

pg_throwaway_start() {
    local bin dir port run password
    bin="$(pg_bin_dir)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "no PostgreSQL server binaries (initdb) found" >&2
        return 1
    fi
    dir="$(mktemp -d /tmp/aispend-pg.XXXXXX)"
    password="test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    run=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        run=(runuser -u postgres --)
    fi
    printf '%s\n' "$password" > "$dir/pwfile"
    chmod 0644 "$dir/pwfile"
    "${run[@]}" "$bin/initdb" -D "$dir/data" -U aispend --pwfile="$dir/pwfile" \
        --auth=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    rm -f "$dir/pwfile"
    local ssl="off"
    if command -v openssl >/dev/null 2>&1; then
        # A CA and a server certificate it signs (a self-signed end certificate is refused by
        # verify-full, rightly).
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$dir/ext"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=aispend test CA" \
            -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1 &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
                -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1 &&
            openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
                -CAcreateserial -days 2 -extfile "$dir/ext" -out "$dir/server.crt" >/dev/null 2>&1 &&
            ssl="on"
        if [ "$ssl" = on ]; then
            [ "$(id -u)" = 0 ] && chown postgres "$dir/server.key" "$dir/server.crt"
            chmod 0600 "$dir/server.key"
            export AISPEND_TEST_POSTGRES_CA="$dir/ca.crt"
        fi
    fi
    # A port nothing answers on may still be taken for a moment (a server on it just stopped): when
    # the server cannot bind it, the next free port is tried.
    port=54320
    while true; do
        port="$(pg_free_port "$port")" || {
            echo "no free port for PostgreSQL in 54320-54420" >&2
            return 1
        }
        "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
                -c ssl=$ssl -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key \
                -c fsync=off" start >/dev/null && break
        if ! grep -q 'Address already in use' "$dir/server.log"; then
            cat "$dir/server.log" >&2
            return 1
        fi
        port=$((port + 1))
    done
    export AISPEND_TEST_POSTGRES="postgres://aispend:$password@127.0.0.1:$port/postgres"
    PG_THROWAWAY_DIR="$dir"
    PG_THROWAWAY_BIN="$bin"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (TLS $ssl), in $dir" >&2
}

pg_throwaway_stop() {
    [ -n "${PG_THROWAWAY_DIR:-}" ] || return 0
    local run=()
    [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
    "${run[@]}" "$PG_THROWAWAY_BIN/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_THROWAWAY_DIR"
    PG_THROWAWAY_DIR=""
}
