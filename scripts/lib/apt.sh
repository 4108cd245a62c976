# Sourced: `apt_install PACKAGE...` installs the Debian packages that are missing, as root or through sudo.
# Services the packages would start on their own (a system Redis on 6379, Caddy on :80, a default PostgreSQL
# cluster) are not started and not created: the shop runs its own instances, on its own data and ports.
# Sets APT_INSTALLED to the packages it installed.

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    APT_INSTALLED="${missing[*]}"
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> apt-get install ${missing[*]}" >&2
    as_root mkdir -p /etc/postgresql-common
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    local policy=/usr/sbin/policy-rc.d made=0
    if [ ! -e "$policy" ]; then  # exit 101: "action forbidden", honoured by invoke-rc.d and deb-systemd-invoke
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod 755 "$policy" && made=1
    fi
    local status=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || status=$?
    [ "$made" = 1 ] && as_root rm -f "$policy"
    if [ "$status" = 0 ] && [ -d /run/systemd/system ]; then  # nor started at the next boot
        for pkg in "${missing[@]}"; do
            case "$pkg" in caddy|redis-server) as_root systemctl disable --quiet "$pkg" 2>/dev/null || true ;; esac
        done
    fi
    return "$status"
}
