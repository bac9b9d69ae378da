import { defineLab, json, ok, sh } from '../define-lab.ts';

export default defineLab({
  id: 'orientation',
  title: 'A brand-new network namespace',
  requires: ['netns'],
  hosts: ['fresh'],
  setup: sh`ip netns add fresh`,
  exercises: [
    {
      id: 'loopback-up',
      title: 'Bring up loopback in an empty namespace',
      task: sh`
        The lab created a network namespace called \`fresh\`. A new namespace starts with a single
        interface, \`lo\`, and even that one is down: nothing can talk, not even to itself.
        Look at it with \`ip -n fresh link\`, bring \`lo\` up, and ping 127.0.0.1 from inside \`fresh\`
        (the *fresh* tab is a shell inside that namespace).`,
      checks: [
        {
          name: 'lo is up in namespace fresh',
          run: 'ip -n fresh -j link show dev lo',
          pass: (out) => {
            if (out.exitCode !== 0) return 'Namespace fresh is gone: recreate it with `ip netns add fresh` (or press Reset).';
            const [lo] = json(out);
            return lo.flags.includes('UP') || `lo in namespace fresh is still DOWN (flags: ${lo.flags.join(', ')}).`;
          },
        },
        {
          name: 'fresh answers a ping to 127.0.0.1',
          run: 'ip netns exec fresh ping -c 1 -W 1 127.0.0.1',
          pass: ok,
          fail: 'A ping to 127.0.0.1 inside fresh got no reply: loopback answers only once lo is up.',
        },
      ],
      hint: 'Inside a namespace, `ip link set lo up` works on that namespace\'s own lo. From outside, prefix the command with `ip netns exec fresh` or use `ip -n fresh`.',
      solution: sh`
        ip -n fresh link set lo up
        ip netns exec fresh ping -c 1 127.0.0.1`,
    },
  ],
});
