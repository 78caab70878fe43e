# Shared helpers for the build scripts.  Source, do not run.

# Everything downloaded or built lives here, outside the clone, so repeated
# runs and fresh clones share it.
CACHE=${VFIO_APPLE_CACHE:-/var/cache/vfio-apple}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

step() { printf '==> %s\n' "$*" >&2; }
ok()   { printf ' ok %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# A private apt configuration for packages outside the machine's own suite.
# It has its own source list and state, so the system's sources and the
# versions of its installed packages are never touched.
PAPT=$CACHE/apt
papt_setup() {
	mkdir -p "$PAPT/lists/partial" "$PAPT/archives/partial" "$PAPT/cache"
	cat >"$PAPT/sources.list" <<EOS
deb-src http://deb.debian.org/debian sid main
deb http://deb.debian.org/debian bookworm-backports main
deb [arch=arm64,amd64] http://deb.debian.org/debian bookworm main
deb [arch=arm64,amd64] http://deb.debian.org/debian-security bookworm-security main
deb [arch=arm64,amd64] http://deb.debian.org/debian bookworm-updates main
EOS
	cat >"$PAPT/apt.conf" <<EOS
Dir::Etc::SourceList "$PAPT/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::State::Lists "$PAPT/lists";
Dir::Cache "$PAPT/cache";
Dir::Cache::Archives "$PAPT/archives";
APT::Architectures { "amd64"; "arm64"; };
APT::Sandbox::User "root";
EOS
}
papt_get()   { APT_CONFIG="$PAPT/apt.conf" apt-get -qq "$@"; }
papt_cache() { APT_CONFIG="$PAPT/apt.conf" apt-cache "$@"; }

# Refresh the private lists at most once a day (or when forced).
private_apt_update() {
	papt_setup
	local stamp="$PAPT/updated"
	if [ -n "${VFIO_APPLE_REFRESH:-}" ] || [ ! -e "$stamp" ] ||
	   [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
		step "apt-get update (private configuration: sid sources, backports, bookworm arm64)"
		papt_get update || die "apt-get update failed for the private configuration ($PAPT); check the network/mirror and retry"
		touch "$stamp"
	fi
}
