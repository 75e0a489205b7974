# Sourced by the other scripts: where tweetlake's caches live, and the libtorch that the NER
# build links (scripts/setup-libtorch.sh assembles it). `source scripts/env.sh` to build by hand.
export TWEETLAKE_HOME=${TWEETLAKE_HOME:-$HOME/.cache/tweetlake}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$TWEETLAKE_HOME/target}
export LIBTORCH=${LIBTORCH:-$TWEETLAKE_HOME/libtorch-2.4.0-cpu}
# The PyPI wheel's libtorch uses the pre-C++11 string ABI.
export LIBTORCH_CXX11_ABI=${LIBTORCH_CXX11_ABI:-0}
export LD_LIBRARY_PATH=$LIBTORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# libgomp spin-waits otherwise, which on two busy cores cuts NER from ~150 to ~20 texts/s.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
