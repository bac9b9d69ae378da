#!/bin/bash
# Forwards between the switch's two ports with DPDK's testpmd for $1 seconds (10 unless told), then
# prints testpmd's forward statistics. The checker runs it as `bash /root/dpdk-forward.sh 5`.
#
# testpmd polls: its forwarding core spins at 100 % whether packets come or not, so it always runs
# under `timeout`. `-s INT` stops it as Ctrl-C would: it prints its statistics, then exits.
seconds=${1:-10}
ip netns exec switch timeout -s INT "$seconds" dpdk-testpmd \
	TODO-EAL-options \
	-- TODO-testpmd-options \
	</dev/null
