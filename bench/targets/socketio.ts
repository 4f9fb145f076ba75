/**
 * The Socket.IO target: Socket.IO 4 with the same handlers as the others, as a Socket.IO
 * user would write them (events, acks, `socket.to(room).emit`), WebSocket transport only,
 * and `@socket.io/redis-adapter` between two nodes.
 */
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import { failed, serve, targetOptions } from './host.js'

const options = targetOptions()

async function main(): Promise<void> {
  if (options.bus === 'nats') throw new Error('Socket.IO has no NATS adapter in this bench')
  const http = createServer()
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    pingInterval: options.heartbeatMs,
    pingTimeout: Math.min(20000, options.heartbeatMs),
  })
  let pub: Redis | null = null
  let sub: Redis | null = null
  if (options.bus === 'redis') {
    pub = new Redis(options.busUrl)
    sub = pub.duplicate()
    io.adapter(createAdapter(pub, sub))
  }
  io.on('connection', (socket) => {
    socket.on('ping', (data: { ts?: number } | null, ack?: (reply: unknown) => void) => {
      ack?.({ ts: data?.ts ?? null, server_ts: Date.now() })
    })
    socket.on('join_room', async (data: { room_id: string }, ack?: (reply: unknown) => void) => {
      await socket.join(data.room_id)
      ack?.({ room_id: data.room_id, status: 'joined', members: io.of('/').adapter.rooms.get(data.room_id)?.size ?? 0 })
    })
    socket.on('room_message', (data: { room_id: string; content: unknown }) => {
      if (!socket.rooms.has(data.room_id)) return
      socket.to(data.room_id).emit('room_message', { room_id: data.room_id, content: data.content, sender_id: socket.id, sender_user_id: null, timestamp: Date.now() })
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  serve((http.address() as { port: number }).port, {
    connections: () => io.engine.clientsCount,
    broadcast(payload) {
      io.emit('broadcast', { message: payload, timestamp: Date.now() })
    },
    async close() {
      io.disconnectSockets(true)
      await new Promise<void>((resolve) => io.close(() => resolve()))
      pub?.disconnect()
      sub?.disconnect()
    },
  })
}

main().catch(failed)
