#!/bin/sh
# Build VFIOAppleInstaller.app on a Mac (Xcode command-line tools), embed
# the dext, sign both.  See README.md.
#
#   installer/build.sh DEXT_PATH SIGN_IDENTITY PROFILE [OUTDIR]
#
#   DEXT_PATH      the built org.vfio-apple.driver.dext (dext/macos's
#                  xcodebuild output), already signed by its own step
#   SIGN_IDENTITY  "Developer ID Application: ..." or "Apple Development: ..."
#   PROFILE        the app's provisioning profile (.provisionprofile) that
#                  grants com.apple.developer.system-extension.install
set -eu
[ $# -ge 3 ] || { sed -n 4,13p "$0"; exit 2; }
dext=$1 identity=$2 profile=$3 out=${4:-build/installer}
here=$(cd "$(dirname "$0")" && pwd)
version=$(cat "$here/../VERSION")
app="$out/VFIOAppleInstaller.app"

rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Library/SystemExtensions"
sed "s/@VERSION@/$version/g" "$here/Info.plist" > "$app/Contents/Info.plist"
xcrun clang -fobjc-arc -mmacosx-version-min=13.0 -arch arm64 -Wall -Werror \
	-framework Foundation -framework SystemExtensions \
	-o "$app/Contents/MacOS/VFIOAppleInstaller" "$here/main.m"
# The dext keeps its own signature: copy it, do not re-sign it here.
cp -R "$dext" "$app/Contents/Library/SystemExtensions/"
cp "$profile" "$app/Contents/embedded.provisionprofile"
codesign --force --options runtime --timestamp \
	--entitlements "$here/VFIOAppleInstaller.entitlements" \
	--sign "$identity" "$app"
codesign --verify --deep --strict --verbose=2 "$app"
echo "built $app: copy it to /Applications and run"
echo "  /Applications/VFIOAppleInstaller.app/Contents/MacOS/VFIOAppleInstaller activate"
