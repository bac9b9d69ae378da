// The checks of "Forward with testpmd": the learner's script, run under a timeout, and what testpmd printed.
import { sh, type CommandOutput } from '../define-lab.ts';
import { pingsAnswered } from '../namespaces.ts';
import { gone, PORTS, SCRIPT, TESTPMD_SECONDS, valuesOf, type Port } from './switch.ts';

export const scriptState = sh`
  if [ ! -f ${SCRIPT} ]; then echo script=missing; exit 0; fi
  echo "todo=$(grep -c TODO ${SCRIPT})"
  echo "testpmd=$(grep -c dpdk-testpmd ${SCRIPT})"
  echo "timeout=$(grep -c 'timeout' ${SCRIPT})"`;

export function checkScript(out: CommandOutput) {
  const { script, todo, testpmd, timeout } = valuesOf(out);
  if (script === 'missing') return `${SCRIPT} is gone: press Reset to get the starter back, or write it again.`;
  if (Number(todo) > 0) return `${SCRIPT} still has TODO in it: replace the two TODO lines with testpmd's EAL options and its own options (the task lists what each must say).`;
  if (Number(testpmd) === 0) return `${SCRIPT} no longer runs dpdk-testpmd.`;
  if (Number(timeout) === 0) return `${SCRIPT} runs testpmd without \`timeout\`: its forwarding core spins at 100 % until stopped, so keep the \`timeout -s INT "$seconds"\` in front of it.`;
  return true;
}

// How long the learner's script may run before the checker ends it: testpmd's own seconds, plus
// room for EAL to start and for testpmd to print its statistics on a loaded machine (measured: EAL
// took over 6 s while CI, a CPU hog and an image build shared two cores).
const SCRIPT_LIMIT_SECONDS = TESTPMD_SECONDS + 25;

// A ping before testpmd starts (it must not get through: nothing else forwards), then the learner's
// script in a session of its own, a few pings while testpmd runs, and testpmd's output. Whatever the
// script leaves running past its time is ended, by session, so a stray testpmd cannot keep spinning.
export const testpmdRun = sh`
  if [ ! -f ${SCRIPT} ]; then echo script=missing; exit 0; fi
  if grep -q TODO ${SCRIPT}; then echo script=todo; exit 0; fi
  for port in ${PORTS.join(' ')}; do echo "mac_$port=$(ip -n switch -j link show dev $port 2>/dev/null | jq -r '.[0].address')"; done
  if ip netns exec left ping -q -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; then echo before=through; else echo before=blocked; fi
  count=$((3 + RANDOM % 4))
  echo "count=$count"
  log="$TMPDIR/dpdk-check.log"
  setsid timeout -k 1 ${SCRIPT_LIMIT_SECONDS} bash ${SCRIPT} ${TESTPMD_SECONDS} </dev/null >$log 2>&1 &
  session=$!
  for wait in $(seq 200); do grep -q 'start packet forwarding' $log && break; kill -0 $session 2>/dev/null || break; sleep 0.1; done
  sleep 0.3
  echo "received=${pingsAnswered('left', '10.0.0.2', '-c $count -i 0.2')}"
  if kill -0 $session 2>/dev/null; then echo alive=yes; else echo alive=no; fi
  wait $session
  pkill -KILL -s $session 2>/dev/null && echo leftover=killed
  echo '--- testpmd'
  tr -d '\\033' < $log | tail -c 100000`;

interface PortStats {
  rx: number;
  tx: number;
}

// The last "Forward statistics for port N" blocks testpmd printed as it stopped, and the MAC
// address it found for each port ("Port 0: 5A:2B:56:E0:0D:E9").
function testpmdOutput(log: string) {
  const stats = new Map<number, PortStats>();
  for (const match of log.matchAll(/Forward statistics for port (\d+)[\s-]*RX-packets:\s*(\d+)[^\n]*\n\s*TX-packets:\s*(\d+)/g)) {
    stats.set(Number(match[1]), { rx: Number(match[2]), tx: Number(match[3]) });
  }
  const macs = new Map<number, string>();
  for (const match of log.matchAll(/^Port (\d+): ([0-9A-Fa-f:]{17})$/gm)) macs.set(Number(match[1]), match[2].toLowerCase());
  return { stats, macs };
}

// What testpmd or its EAL said when it refused to start, in the words of its log.
const testpmdErrors: [RegExp, string][] = [
  [/Cannot get hugepage information/, 'EAL looked for hugepages, and a sandbox has none: add `--no-huge` (EAL then takes ordinary memory, as much as `-m` says).'],
  [/Creation of mbuf pool for socket \d+ failed/, 'testpmd could not fit its packet buffers in the memory EAL has: without hugepages it asks for 155,456 mbufs of about 2 KiB by default. Ask for fewer with `--total-num-mbufs=2048` (a testpmd option, after `--`) and give EAL `-m 32`.'],
  [/No cores defined for forwarding/, 'testpmd has no core to forward on: the first core of `-l` runs the main thread, so give it two (`-l 0-1`).'],
  [/SIOCGIFINDEX\):No such device|failed to initialize net_af_packet/, 'A net_af_packet port could not find its interface: is the script running testpmd inside the switch namespace (`ip netns exec switch`), with `iface=port-left` and `iface=port-right`?'],
  [/No probed ethernet devices/, 'testpmd found no port at all: a sandbox has no PCI network card for DPDK to take, so create the two ports as virtual devices: `--vdev=net_af_packet0,iface=port-left --vdev=net_af_packet1,iface=port-right`.'],
  [/command not found/, 'A command in the script was not found.'],
  [/Cannot init EAL|EAL: Error|invalid option|unrecognized option/, 'EAL or testpmd refused the command line.'],
];

export function checkTestpmd(out: CommandOutput) {
  const [head, log = ''] = out.stdout.split('--- testpmd\n');
  const values = valuesOf({ ...out, stdout: head });
  if (values.script === 'missing') return `${SCRIPT} is gone: press Reset to get the starter back, or write it again.`;
  if (values.script === 'todo') return `${SCRIPT} still has TODO in it: fill in testpmd's options first.`;
  const macs = { 'port-left': values['mac_port-left'], 'port-right': values['mac_port-right'] };
  if (!macs['port-left'] || macs['port-left'] === 'null' || !macs['port-right'] || macs['port-right'] === 'null') return gone;
  if (values.before === 'through') {
    return 'Before the checker started your script, its ping from left already reached right: something else forwards between the ports (xsk_fwd from the AF_XDP exercise, a bridge, routing). Stop it (`pkill -x xsk_fwd`, then the "no other path" check says what else), so that testpmd is the only path.';
  }
  const count = Number(values.count);
  const received = Number(values.received || 0);
  const leftover = values.leftover === 'killed' ? ` Your script was still running ${SCRIPT_LIMIT_SECONDS} s later, so the checker ended it: keep the \`timeout -s INT "$seconds"\` in front of testpmd.` : '';
  const lastLines = log.trim().split('\n').slice(-4).join(' / ');
  const { stats, macs: portMacs } = testpmdOutput(log);
  const known = testpmdErrors.find(([pattern]) => pattern.test(log));
  const refused = known && `testpmd did not forward: it said "${log.split('\n').find((line) => known[0].test(line))?.trim()}". ${known[1]}${leftover}`;
  if (stats.size === 0) {
    if (refused) return refused;
    return `testpmd printed no forward statistics (they come when it stops, on SIGINT from \`timeout -s INT\`). Its last lines: ${lastLines || '(nothing)'}.${leftover}`;
  }
  const portOf = (port: Port) => [...portMacs].find(([, mac]) => mac === macs[port])?.[0];
  const left = portOf('port-left');
  const right = portOf('port-right');
  if (left === undefined || right === undefined) {
    if (refused) return refused;
    const found = [...portMacs].map(([n, mac]) => `port ${n} has MAC ${mac}`).join(', ') || 'no port MAC';
    return `testpmd's ports are not port-left (${macs['port-left']}) and port-right (${macs['port-right']}): its log shows ${found}. Give each --vdev the right iface=.${leftover}`;
  }
  const l = stats.get(left) ?? { rx: 0, tx: 0 };
  const r = stats.get(right) ?? { rx: 0, tx: 0 };
  const numbers = `testpmd counted ${l.rx} frames received and ${l.tx} sent on port-left (its port ${left}), ${r.rx} received and ${r.tx} sent on port-right (port ${right})`;
  if (received < count) {
    if (/Press enter to exit/.test(log) && values.alive === 'no') {
      return `testpmd had stopped before the checker's pings were done, long before its ${TESTPMD_SECONDS} s: without \`-i\` it forwards and waits for Enter on its standard input, and the script's is /dev/null, so it read end-of-file and quit. Add \`--stats-period 1\` to its options: it then prints its counters every second until \`timeout\` stops it.${leftover}`;
    }
    const sent = `The checker pinged right from left ${count} times while your script ran, and ${received} came back; ${numbers}.`;
    if (l.rx === 0) return `${sent} Nothing reached testpmd from port-left: did forwarding start before the pings (its log: ${lastLines})?${leftover}`;
    return `${sent}${leftover}`;
  }
  if (l.rx < count || r.tx < count || r.rx < count || l.tx < count) {
    return `The checker's ${count} pings crossed, but ${numbers}: fewer than the pings and their replies, so something else carried them.${leftover}`;
  }
  if (leftover) return leftover.trim();
  return true;
}

// ---- AF_XDP ----
