// The chat page: plain ES modules, no framework. The client SDK comes from the node
// itself (/wshub/client/index.js is the built `wshub/client`).
import { WshubClient } from '/wshub/client/index.js'

const params = new URLSearchParams(location.search)
const room = params.get('room') || 'lobby'
const myName = params.get('name') || `guest-${Math.random().toString(36).slice(2, 6)}`
const $ = (id) => document.getElementById(id)

// A token, where the node checks them, travels in the subprotocol list (wshub.bearer.<jwt>).
// Taking it from the page address is for the demo only: a real page gets it from its login.
const token = params.get('token')
const client = new WshubClient(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, { token })
/** client_id → display name, learned from introductions and messages. */
const names = new Map()
let members = []

$('room-name').textContent = `#${room}`
$('my-name').textContent = myName

// Connection state, always visible.
const LABELS = { connecting: 'connecting…', open: 'connected', reconnecting: 'reconnecting', closed: 'disconnected' }
function showState(state, detail = '') {
  const badge = $('connection')
  badge.dataset.state = state
  badge.textContent = detail ? `${LABELS[state]} · ${detail}` : LABELS[state]
  // While disconnected the member list is only what it was: show it greyed.
  $('members').classList.toggle('stale', state !== 'open')
}
client.on('connecting', () => showState('connecting'))
client.on('open', (welcome) => showState('open', welcome.node_id))
client.on('reconnecting', ({ attempt, delay }) => showState('reconnecting', `attempt ${attempt}, in ${Math.round(delay / 100) / 10} s`))
client.on('closed', ({ reconnect, code }) => { if (!reconnect) showState('closed', `code ${code}`) })
client.on('rejoined', ({ recovered }) => {
  notice(recovered ? 'reconnected: nothing was missed' : 'reconnected: some messages may be missing')
  void refreshMembers()
})
client.on('rejoin_failed', ({ error }) => notice(`could not rejoin: ${error.message}`, 'failed'))

// Messages.
function addLine(className) {
  const li = document.createElement('li')
  if (className) li.className = className
  $('messages').append(li)
  li.scrollIntoView({ block: 'end' })
  return li
}
function notice(text, className = 'notice') {
  addLine(className).textContent = text
}
function message(name, text, timestamp, mine) {
  const li = addLine(mine ? 'mine' : '')
  const who = document.createElement('span')
  who.className = 'who'
  who.textContent = name
  const time = document.createElement('span')
  time.className = 'time'
  time.textContent = new Date(timestamp).toLocaleTimeString()
  li.append(who, document.createTextNode(text), time)
  return li
}
client.on('room_message', (data, frame) => {
  if (data.room_id !== room || typeof data.content !== 'object' || data.content === null) return
  const { name, text } = data.content
  names.set(data.sender_id, String(name))
  message(String(name), String(text), frame.timestamp ?? Date.now(), false)
  renderMembers()
})

// Presence: the member list from room_members, kept fresh by member_joined / member_left.
// Anonymous members have no user id, so pages introduce themselves by direct message.
function renderMembers() {
  const list = $('members')
  list.replaceChildren(
    ...members.map((m) => {
      const li = document.createElement('li')
      const mine = m.client_id === client.welcome?.client_id
      li.textContent = mine ? `${myName} (you)` : names.get(m.client_id) ?? `guest ${m.client_id.slice(-4)}`
      return li
    }),
  )
  $('member-count').textContent = `(${members.length})`
}
async function refreshMembers() {
  members = await client.members(room)
  renderMembers()
}
function introduce(clientId, wantsReply) {
  client.sendTo(clientId, { intro: myName, room, reply: wantsReply }).catch(() => {})
}
client.on('direct_message', ({ content, sender_id: sender }) => {
  if (content?.room !== room || typeof content.intro !== 'string') return
  names.set(sender, content.intro)
  if (content.reply) introduce(sender, false)
  renderMembers()
})
client.on('member_joined', (data) => {
  if (data.room_id !== room) return
  if (!members.some((m) => m.client_id === data.client_id)) members.push({ client_id: data.client_id, user_id: data.user_id })
  renderMembers()
})
client.on('member_left', (data) => {
  if (data.room_id !== room) return
  members = members.filter((m) => m.client_id !== data.client_id)
  renderMembers()
})

// Sending: shown at once, confirmed by the server's ack.
$('composer').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = $('text')
  const text = input.value.trim()
  if (!text) return
  input.value = ''
  const line = message(myName, text, Date.now(), true)
  line.classList.add('pending')
  try {
    await client.publish(room, { name: myName, text })
    line.classList.remove('pending')
  } catch (err) {
    line.classList.add('failed')
    line.title = err.message
  }
})

try {
  await client.connect()
  // since: 0 replays what the room kept, and lets a rejoin after a reconnect ask for exactly what was missed.
  await client.join(room, { since: 0 })
  await refreshMembers()
  for (const m of members) if (m.client_id !== client.welcome.client_id) introduce(m.client_id, true)
  document.body.dataset.ready = 'true'
} catch (err) {
  notice(`could not join #${room}: ${err.message}`, 'failed')
}
