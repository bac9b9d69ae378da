import { defineLab, sh } from '../define-lab.ts';

const SERVICE = '10.0.3.2:8080';
const REPLY_FILE = '/root/reply.txt';
// The checker's own client: connects from client, reads the answer, gives up after two seconds.
const fetchReply = 'ip netns exec client timeout 3 socat -T 2 - TCP:10.0.3.2:8080,connect-timeout=2 </dev/null';

export default defineLab({
  id: 'tcp-service',
  title: 'A TCP service across namespaces',
  requires: ['netns', 'veth'],
  hosts: ['client', 'server'],
  setup: sh`
    ip netns add client
    ip netns add server
    ip link add eth0 netns client type veth peer name eth0 netns server
    ip -n client addr add 10.0.3.1/24 dev eth0
    ip -n server addr add 10.0.3.2/24 dev eth0
    for ns in client server; do ip -n $ns link set eth0 up; ip -n $ns link set lo up; done`,
  exercises: [
    {
      id: 'listen-and-connect',
      title: 'Serve on port 8080 and connect from the client',
      task: sh`
        Namespaces \`client\` (10.0.3.1) and \`server\` (10.0.3.2) share a cable. In server, run a
        TCP service on port 8080 that answers every connection with a line of text and keeps
        running for the next one (\`socat\` and \`nc\` are installed). Find its listening socket with
        \`ss -tln\`. Then connect from client and save the service's answer in \`${REPLY_FILE}\`.`,
      checks: [
        {
          name: 'a socket listens on TCP port 8080 in server',
          run: 'ip netns exec server ss -Htln',
          pass: (out) => {
            const listening = out.stdout.trim().split('\n').filter(Boolean).map((line) => line.split(/\s+/)[3]);
            if (listening.some((address) => /:8080$/.test(address))) return true;
            return listening.length === 0
              ? 'Nothing listens for TCP in server yet: start your service inside server (`ip netns exec server …` or the server tab).'
              : `In server, TCP sockets listen on ${listening.join(', ')}, but none on port 8080.`;
          },
        },
        {
          name: `a connection from client to ${SERVICE} gets an answer`,
          run: fetchReply,
          pass: (out) => out.stdout.trim() !== '' || `Connecting from client to ${SERVICE} got no answer: the service must write a line and serve the next connection too (socat's \`fork\`, nc's \`-k\`).`,
          live: false,
        },
        {
          name: `${REPLY_FILE} holds the service's answer`,
          run: `test -s ${REPLY_FILE} || exit 3; cat ${REPLY_FILE}; echo ---; ${fetchReply}`,
          pass: (out) => {
            if (out.exitCode === 3) return `${REPLY_FILE} is missing or empty: save what the client receives into it.`;
            const [saved, fresh] = out.stdout.split('\n---\n').map((text) => text.trim());
            return !fresh || saved === fresh || `${REPLY_FILE} holds "${saved.slice(0, 60)}", but the service now answers "${fresh.slice(0, 60)}".`;
          },
          live: false,
        },
      ],
      hint: "In server: `socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello from server' &` serves every connection. From client: `socat - TCP:10.0.3.2:8080 > /root/reply.txt`.",
      solution: sh`
        ip netns exec server setsid socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello from server' </dev/null >/dev/null 2>&1 &
        until ip netns exec server ss -Htln | grep -q ':8080 '; do sleep 0.1; done
        ip netns exec server ss -tln
        ip netns exec client socat - TCP:10.0.3.2:8080 </dev/null > ${REPLY_FILE}
        cat ${REPLY_FILE}`,
    },
  ],
});
