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
	# (written to a temporary file and renamed only when it changed, so
	# that concurrent runs never see a half-written file)
	cat >"$PAPT/sources.list.$$" <<EOS
deb-src http://deb.debian.org/debian sid main
deb http://deb.debian.org/debian bookworm-backports main
deb [arch=arm64,amd64] http://deb.debian.org/debian bookworm main
deb [arch=arm64,amd64] http://deb.debian.org/debian-security bookworm-security main
deb [arch=arm64,amd64] http://deb.debian.org/debian bookworm-updates main
deb [arch=arm64,amd64] http://deb.debian.org/debian trixie main
deb [arch=arm64,amd64] http://deb.debian.org/debian-security trixie-security main
deb [arch=arm64,amd64] http://deb.debian.org/debian trixie-updates main
deb [arch=arm64,amd64] http://deb.debian.org/debian trixie-backports main
EOS
	cat >"$PAPT/apt.conf.$$" <<EOS
Dir::Etc::SourceList "$PAPT/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::State::Lists "$PAPT/lists";
Dir::Cache "$PAPT/cache";
Dir::Cache::Archives "$PAPT/archives";
APT::Architectures { "amd64"; "arm64"; };
APT::Sandbox::User "root";
EOS
	local f
	for f in sources.list apt.conf; do
		if cmp -s "$PAPT/$f.$$" "$PAPT/$f"; then rm -f "$PAPT/$f.$$"; else mv -f "$PAPT/$f.$$" "$PAPT/$f"; fi
	done
}
# The binary caches are kept in $PAPT/cache (a look-up then takes
# milliseconds, not seconds), even where the system's apt.conf.d turns them
# off (Docker images do): options on the command line win over those files.
PAPT_OPTS=(-o Dir::Cache::pkgcache=pkgcache.bin -o Dir::Cache::srcpkgcache=srcpkgcache.bin)
papt_get()   { APT_CONFIG="$PAPT/apt.conf" apt-get -qq "${PAPT_OPTS[@]}" "$@"; }
papt_cache() { APT_CONFIG="$PAPT/apt.conf" apt-cache "${PAPT_OPTS[@]}" "$@"; }

# The private lists are fresh when updated less than a day ago with the
# source list above (the stamp holds its hash).
private_apt_fresh() {
	papt_setup
	local stamp="$PAPT/updated"
	[ -z "${VFIO_APPLE_REFRESH:-}" ] && [ -e "$stamp" ] &&
	[ "$(cat "$stamp" 2>/dev/null)" = "$(sha256sum <"$PAPT/sources.list" | cut -d' ' -f1)" ] &&
	[ -z "$(find "$stamp" -mmin +1440 2>/dev/null)" ]
}

# Refresh the private lists at most once a day (or when forced, or when
# the source list changed).
private_apt_update() {
	if ! private_apt_fresh; then
		step "apt-get update (private configuration: sid sources, bookworm-backports, bookworm and trixie (with backports) arm64)"
		papt_get update || die "apt-get update failed for the private configuration ($PAPT); check the network/mirror and retry"
		sha256sum <"$PAPT/sources.list" | cut -d' ' -f1 >"$PAPT/updated"
	fi
}

# Path in $CACHE/guest/debs/ for package $1 (name), version $2, arch $3;
# downloads it with the private apt if missing (its lists must be there:
# private_apt_update).
deb_path() {
	local name=$1 ver=$2 arch=$3 f tmp got
	f="$CACHE/guest/debs/${name}_${ver//:/%3a}_${arch}.deb"
	if [ ! -s "$f" ]; then
		step "download $name $ver ($arch)"
		tmp=$(mktemp -d "$CACHE/guest/debs/.tmp.XXXXXX")
		local spec=$name
		[ "$arch" = all ] || spec="$name:$arch"
		(cd "$tmp" && papt_get download "$spec=$ver") >&2 ||
			{ rm -rf "$tmp"; die "apt-get download $spec=$ver failed (network? try VFIO_APPLE_REFRESH=1 to refresh the lists)"; }
		got=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n1)
		[ -n "$got" ] || { rm -rf "$tmp"; die "apt-get download $spec=$ver produced no .deb"; }
		mv -f "$got" "$f"
		rm -rf "$tmp"
	fi
	printf '%s\n' "$f"
}
