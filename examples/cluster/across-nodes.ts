/**
 * Two clients on two different nodes of the example cluster: both join `lobby`, one
 * sends a room message and a direct message, the other prints what arrives.
 *
 *   node dist/examples/cluster/across-nodes.js [ws://127.0.0.1:8081/ws] [ws://127.0.0.1:8083/ws]
 */
import WebSocket from 'ws'

type Frame = { message_type: string; data: any; request_id?: string | number }

function open(url: string): Promise<{ socket: WebSocket; welcome: Frame; frames: AsyncIterator<Frame> }> {
  const socket = new WebSocket(url)
  const queue: Frame[] = []
  let wake: (() => void) | null = null
  socket.on('message', (raw) => {
    queue.push(JSON.parse(raw.toString()) as Frame)
    wake?.()
  })
  const frames: AsyncIterator<Frame> = {
    async next() {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve))
      return { value: queue.shift()!, done: false }
    },
  }
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.once('open', async () => resolve({ socket, welcome: (await frames.next()).value, frames }))
  })
}

async function until(frames: AsyncIterator<Frame>, type: string): Promise<Frame> {
  for (;;) {
    const frame = (await frames.next()).value
    if (frame.message_type === type) return frame
  }
}

const [alice, bob] = await Promise.all([open(process.argv[2] ?? 'ws://127.0.0.1:8081/ws'), open(process.argv[3] ?? 'ws://127.0.0.1:8083/ws')])
console.log(`alice is ${alice.welcome.data.client_id} on ${alice.welcome.data.node_id}; bob is ${bob.welcome.data.client_id} on ${bob.welcome.data.node_id}`)

for (const who of [alice, bob]) {
  who.socket.send(JSON.stringify({ message_type: 'join_room', data: { room_id: 'lobby' }, message_id: 1 }))
  await until(who.frames, 'room_joined')
}
alice.socket.send(JSON.stringify({ message_type: 'room_message', data: { room_id: 'lobby', content: 'hello from the other node' } }))
console.log('bob got', JSON.stringify((await until(bob.frames, 'room_message')).data))
alice.socket.send(JSON.stringify({ message_type: 'direct_message', data: { target_id: bob.welcome.data.client_id, content: 'just for you' } }))
console.log('bob got', JSON.stringify((await until(bob.frames, 'direct_message')).data))
alice.socket.close()
bob.socket.close()
