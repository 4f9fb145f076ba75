/**
 * The raw target: the least a Node server on `ws` can do for the same work, which is the
 * limit the others are measured against. It parses the envelope, answers `ping`, keeps
 * rooms in a Map, fans a room message out with one JSON.stringify (the same bytes to
 * every member), pings every client from one timer, and, across nodes, relays room
 * messages and broadcasts over Redis pub/sub (one payload per message, no re-encoding).
 */
import { createServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'
import { Redis } from 'ioredis'
import { failed, serve, targetOptions } from './host.js'

interface Client extends WebSocket {
  id: string
  alive: boolean
  rooms: Set<string> | null
}

type Listener = (this: WebSocket, ...args: any[]) => void

const options = targetOptions()
const rooms = new Map<string, Set<Client>>()
const clients = new Set<Client>()
const prefix = randomBytes(4).toString('hex')
let counter = 0

const pub = options.bus === 'redis' ? new Redis(options.busUrl, { lazyConnect: true }) : null
const sub = pub ? pub.duplicate() : null

function sendAll(members: Iterable<Client>, frame: Buffer, except: string | null): void {
  for (const ws of members) if (ws.id !== except) ws.send(frame, { binary: false })
}

// Bus payload: `origin\nexcept\nframe`, so a receiving node relays the frame as it came.
function relay(channel: string, frame: string, except: string): void {
  if (pub) void pub.publish(channel, `${options.nodeId}\n${except}\n${frame}`)
}

function onBus(channel: string, payload: Buffer): void {
  const a = payload.indexOf(10)
  const b = payload.indexOf(10, a + 1)
  if (payload.toString('latin1', 0, a) === options.nodeId) return
  const except = payload.toString('latin1', a + 1, b)
  const frame = payload.subarray(b + 1)
  if (channel === 'broadcast') sendAll(clients, frame, except)
  else {
    const members = rooms.get(channel.slice(5))
    if (members) sendAll(members, frame, except)
  }
}

function onMessage(this: Client, data: Buffer): void {
  this.alive = true
  let msg: any
  try {
    msg = JSON.parse(data.toString())
  } catch {
    this.send('{"message_type":"error","data":{"code":1001,"message":"frame is not valid JSON"}}')
    return
  }
  const id = msg.message_id ?? null
  switch (msg.message_type) {
    case 'ping':
      this.send(JSON.stringify({ message_type: 'pong', request_id: id, data: { ts: msg.data?.ts ?? null, server_ts: Date.now() } }))
      return
    case 'join_room': {
      const room = String(msg.data.room_id)
      let members = rooms.get(room)
      if (!members) {
        rooms.set(room, (members = new Set()))
        void sub?.subscribe(`room:${room}`)
      }
      members.add(this)
      ;(this.rooms ??= new Set()).add(room)
      this.send(JSON.stringify({ message_type: 'room_joined', request_id: id, data: { room_id: room, status: 'joined', members: members.size } }))
      return
    }
    case 'room_message': {
      const room = String(msg.data.room_id)
      const members = rooms.get(room)
      if (!members?.has(this)) return
      const frame = JSON.stringify({
        message_type: 'room_message',
        data: { room_id: room, content: msg.data.content, sender_id: this.id, sender_user_id: null },
        timestamp: Date.now(),
      })
      sendAll(members, Buffer.from(frame), this.id)
      relay(`room:${room}`, frame, this.id)
      if (id !== null) this.send(`{"message_type":"ack","request_id":${JSON.stringify(id)},"data":{"status":"ok"}}`)
      return
    }
    default:
      this.send(JSON.stringify({ message_type: 'error', request_id: id, data: { code: 1006, message: 'unknown message type' } }))
  }
}

function onPong(this: Client): void {
  this.alive = true
}

function onClose(this: Client): void {
  clients.delete(this)
  if (this.rooms) for (const room of this.rooms) rooms.get(room)?.delete(this)
}

async function main(): Promise<void> {
  if (pub && sub) {
    await Promise.all([pub.connect(), sub.connect()])
    await sub.subscribe('broadcast')
    sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => onBus(channel.toString(), payload))
  }
  const http = createServer((_req, res) => res.writeHead(404).end())
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 65536 })
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (socketWs) => {
      const ws = socketWs as Client
      ws.id = `${options.nodeId}.${prefix}${(++counter).toString(36)}`
      ws.alive = true
      ws.rooms = null
      ws.on('message', onMessage as Listener)
      ws.on('pong', onPong as Listener)
      ws.on('close', onClose as Listener)
      ws.on('error', () => {})
      clients.add(ws)
      ws.send(JSON.stringify({ message_type: 'welcome', data: { client_id: ws.id, node_id: options.nodeId, user_id: null, protocol: 1, heartbeat_ms: options.heartbeatMs } }))
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const heartbeat = setInterval(() => {
    for (const ws of clients) {
      if (!ws.alive) {
        ws.terminate()
        continue
      }
      ws.alive = false
      ws.ping()
    }
  }, options.heartbeatMs)
  serve((http.address() as { port: number }).port, {
    connections: () => clients.size,
    broadcast(payload) {
      const frame = JSON.stringify({ message_type: 'broadcast', data: { message: payload }, timestamp: Date.now() })
      sendAll(clients, Buffer.from(frame), null)
      relay('broadcast', frame, '')
    },
    async close() {
      clearInterval(heartbeat)
      for (const ws of clients) ws.terminate()
      http.close()
      pub?.disconnect()
      sub?.disconnect()
    },
  })
}

main().catch(failed)
