# Harness self-test: one check that passes, one that fails on purpose, a
# note, then (when asked through /hang) no end at all.
check selftest-pass true
check selftest-fail false
note "selftest_note=17"
if [ -e /hang ]; then sleep 100000; fi
