#!/bin/sh
# Container start: the data and log folders must be writable by the app's user.
#
# Started as root (the image's default), it gives those folders to the app's user
# (MONITOR_UID:MONITOR_GID, 10001 in the image) -- a `git clone` leaves ./data and ./logs
# owned by whoever cloned, and the bind mounts keep that owner -- and runs the command as
# that user. Started as another user (compose `user:`, rootless engines), it only checks
# them. Either way a folder it cannot write ends the start with a message and exit 1.
# The folders are the app's own settings: DATABASE_PATH's folder and LOG_DIR.
set -eu

uid="${MONITOR_UID:-10001}"
gid="${MONITOR_GID:-$uid}"
data_dir=$(dirname -- "${DATABASE_PATH:-data/monitor_events.db}")
log_dir="${LOG_DIR:-logs}"

fail() {
    printf 'Erro: %s\n' "$1" >&2
    exit 1
}

give_to_app_user() {
    dir=$1
    mkdir -p -- "$dir" 2>/dev/null || fail "não foi possível criar a pasta $dir (volume somente leitura?)."
    if [ -n "$(find "$dir" \( ! -user "$uid" -o ! -group "$gid" \) -print -quit 2>/dev/null)" ]; then
        chown -R "$uid:$gid" -- "$dir" 2>/dev/null || fail "a pasta $dir não pôde ser entregue ao usuário \
$uid do contêiner (volume montado somente leitura?). Monte-a com escrita ou, no host, rode: \
sudo chown -R $uid:$gid ./$(basename -- "$dir")"
    fi
    check_writable "$dir"
}

check_writable() {
    dir=$1
    probe="$dir/.gravavel-$$"
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid="$uid" --regid="$gid" --clear-groups -- sh -c ': > "$1" && rm -f -- "$1"' sh "$probe" \
            2>/dev/null || fail "o usuário $uid do contêiner não consegue gravar em $dir (volume montado \
somente leitura?). Monte a pasta com escrita."
        return
    fi
    (: > "$probe") 2>/dev/null && rm -f -- "$probe" || fail "o usuário $(id -u) do contêiner não \
consegue gravar em $dir. No host, rode: sudo chown -R $(id -u):$(id -g) ./$(basename -- "$dir") (ou deixe \
o contêiner começar como root: o entrypoint corrige a posse sozinho)."
}

if [ "$(id -u)" = 0 ]; then
    give_to_app_user "$data_dir"
    give_to_app_user "$log_dir"
    home=$(getent passwd "$uid" | cut -d: -f6 || true)
    [ -n "$home" ] && export HOME="$home"
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
fi
check_writable "$data_dir"
check_writable "$log_dir"
exec "$@"
