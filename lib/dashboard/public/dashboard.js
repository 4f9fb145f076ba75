// The dashboard page: log in, then follow the stats stream (nodes, charts) and refresh
// the clients and rooms every few seconds; actions go through the HTTP API.
import { api, login, logout, loggedIn, streamStats } from './dashboard-api.js'
import { LineChart } from './line-chart.js'

const WINDOW_MS = 5 * 60 * 1000
const LIST_REFRESH_MS = 2000
const PAGE_SIZE = 50

const $ = (id) => document.getElementById(id)
const charts = {
  connections: new LineChart($('chart-connections'), $('legend-connections'), [{ key: 'clients', label: 'connections', className: 'c1' }], WINDOW_MS),
  messages: new LineChart($('chart-messages'), $('legend-messages'), [
    { key: 'in', label: 'in', className: 'c1' },
    { key: 'out', label: 'out', className: 'c2' },
  ], WINDOW_MS),
}

let stream = null
let lastListRefresh = 0
let refreshing = null
// Per node: its last counters, and the rates worked out from the two samples before.
let counters = new Map()
// Clients paging: the cursor of each page seen so far, and the search.
let cursors = [null]
let search = { user: '', room: '' }

/** Makes an element with text or children; never parses HTML, so user ids print as text. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v)
    else if (k === 'onclick') node.addEventListener('click', v)
    else node[k] = v
  }
  node.append(...children.filter((c) => c !== null && c !== undefined))
  return node
}

function flash(message, isError = false) {
  const f = $('flash')
  f.textContent = message
  f.className = isError ? 'error' : ''
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60)
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${seconds % 60}s` : `${seconds}s`
}

// Login and logout.

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = $('token')
  const candidate = input.value.trim()
  input.value = ''
  login(candidate, (message) => endSession(`Logged out: ${message}.`))
  try {
    const stats = await api('GET', '/api/stats')
    startSession(stats)
  } catch (err) {
    logout()
    $('login-error').textContent = err.status === 401 ? `Not accepted: ${err.message}` : `The node did not answer: ${err.message}`
  }
})

$('logout').addEventListener('click', () => endSession(''))

function startSession(stats) {
  $('login-error').textContent = ''
  $('login').hidden = true
  $('dashboard').hidden = false
  $('logout').hidden = false
  $('served-by').textContent = `via ${stats.node_id}`
  onStats(stats)
  stream = new AbortController()
  void streamStats(stream.signal, onStats, setLive)
  void refreshLists()
}

function endSession(message) {
  stream?.abort()
  stream = null
  logout()
  counters = new Map()
  cursors = [null]
  for (const chart of Object.values(charts)) chart.clear()
  for (const id of ['nodes', 'clients', 'rooms']) $(id).tBodies[0].replaceChildren()
  $('dashboard').hidden = true
  $('logout').hidden = true
  $('login').hidden = false
  $('served-by').textContent = ''
  $('login-error').textContent = message
  setLive('off')
}

function setLive(state) {
  const live = $('live')
  live.dataset.state = state
  live.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : 'not logged in'
}

// Stats: nodes and charts.

function onStats(stats) {
  if (!loggedIn()) return
  const rates = { in: 0, out: 0 }
  const next = new Map()
  const rows = []
  for (const node of stats.nodes) {
    const before = counters.get(node.node_id)
    let rate = before?.rate ?? null
    if (before !== undefined && node.seen_at > before.seen_at && node.frames_in !== undefined) {
      const seconds = (node.seen_at - before.seen_at) / 1000
      rate = { in: Math.max(0, node.frames_in - before.frames_in) / seconds, out: Math.max(0, node.frames_out - before.frames_out) / seconds }
    }
    next.set(node.node_id, node.seen_at > (before?.seen_at ?? -1) ? { seen_at: node.seen_at, frames_in: node.frames_in, frames_out: node.frames_out, rate } : { ...before, rate })
    if (rate !== null) {
      rates.in += rate.in
      rates.out += rate.out
    }
    const bus = node.bus ?? 'unknown'
    rows.push(
      el('tr', { dataset: { node: node.node_id } },
        el('td', {}, el('code', { textContent: node.node_id })),
        el('td', { className: 'clients', textContent: String(node.clients) }),
        el('td', { textContent: duration(node.uptime_s) }),
        el('td', { className: bus === 'up' ? 'bus' : 'bus bus-down', textContent: bus }),
        el('td', { textContent: rate === null ? '–' : rate.in.toFixed(1) }),
        el('td', { textContent: rate === null ? '–' : rate.out.toFixed(1) }),
        el('td', { textContent: `${Math.max(0, Math.round((stats.time - node.seen_at) / 1000))}s ago` }),
      ),
    )
  }
  counters = next
  $('nodes').tBodies[0].replaceChildren(...rows)
  $('node-count').textContent = `(${stats.nodes.length})`
  charts.connections.push(stats.time, { clients: stats.clients.cluster })
  charts.messages.push(stats.time, rates)
  if (Date.now() - lastListRefresh >= LIST_REFRESH_MS) void refreshLists()
}

// Clients and rooms, refreshed every few seconds and after each action.

function refreshLists() {
  if (refreshing !== null) return refreshing
  lastListRefresh = Date.now()
  refreshing = Promise.all([refreshClients(), refreshRooms()])
    .catch((err) => flash(`Could not refresh: ${err.message}`, true))
    .finally(() => (refreshing = null))
  return refreshing
}

async function refreshClients() {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) })
  const cursor = cursors.at(-1)
  if (cursor !== null) query.set('cursor', cursor)
  if (search.user !== '') query.set('user_id', search.user)
  if (search.room !== '') query.set('room', search.room)
  let page
  try {
    page = await api('GET', `/api/clients?${query}`)
  } catch (err) {
    if (err.status === 404 && search.room !== '') page = { count: 0, clients: [], next_cursor: null, missing: true }
    else throw err
  }
  if (!loggedIn()) return
  $('client-count').textContent = page.missing ? '(no such room)' : `(${page.count}${search.user || search.room ? ' matching' : ''})`
  $('clients').tBodies[0].replaceChildren(...page.clients.map(clientRow))
  $('clients-page').textContent = `page ${cursors.length}`
  $('clients-prev').disabled = cursors.length === 1
  $('clients-next').disabled = page.next_cursor === null
  $('clients-next').dataset.cursor = page.next_cursor ?? ''
}

function clientRow(c) {
  return el('tr', { dataset: { client: c.client_id, user: c.user_id ?? '' } },
    el('td', {}, el('code', { textContent: c.client_id })),
    el('td', { className: 'user', textContent: c.user_id ?? '(anonymous)' }),
    el('td', { textContent: c.node_id }),
    el('td', { textContent: c.rooms.join(', ') }),
    el('td', {},
      el('button', { type: 'button', className: 'danger kick-client', textContent: 'kick', onclick: () => act(() => api('DELETE', `/api/clients/${encodeURIComponent(c.client_id)}`), `Kicked ${c.client_id}.`) }),
      c.user_id === null ? null : el('button', {
        type: 'button', className: 'danger kick-user', textContent: 'kick user',
        onclick: () => act(async () => {
          const { kicked } = await api('DELETE', `/api/users/${encodeURIComponent(c.user_id)}/connections`)
          return `Kicked ${kicked} connection${kicked === 1 ? '' : 's'} of user ${c.user_id}.`
        }),
      }),
    ),
  )
}

async function refreshRooms() {
  const rooms = await api('GET', '/api/rooms')
  if (!loggedIn()) return
  $('room-count').textContent = `(${rooms.length})`
  $('rooms').tBodies[0].replaceChildren(...rooms.map((r) =>
    el('tr', { dataset: { room: r.id } },
      el('td', {}, el('code', { textContent: r.id })),
      el('td', { textContent: r.name }),
      el('td', { className: 'members', textContent: String(r.members) }),
      el('td', { textContent: r.max_clients === 0 ? 'no limit' : String(r.max_clients) }),
      el('td', { textContent: r.history_size === 0 ? 'off' : `last ${r.history_size}` }),
      el('td', {}, el('button', { type: 'button', className: 'danger delete-room', textContent: 'delete', onclick: () => act(() => api('DELETE', `/api/rooms/${encodeURIComponent(r.id)}`), `Deleted room ${r.id}.`) })),
    ),
  ))
}

/** Runs an action, says how it went, and shows its effect at once; resolves to whether it worked. */
async function act(run, done) {
  let ok = false
  try {
    const message = await run()
    flash(typeof message === 'string' ? message : done)
    ok = true
  } catch (err) {
    flash(`Failed: ${err.message}`, true)
  }
  await refreshLists()
  return ok
}

$('client-search').addEventListener('submit', (event) => {
  event.preventDefault()
  search = { user: $('search-user').value.trim(), room: $('search-room').value.trim() }
  cursors = [null]
  void refreshLists()
})
$('search-clear').addEventListener('click', () => {
  $('search-user').value = ''
  $('search-room').value = ''
  search = { user: '', room: '' }
  cursors = [null]
  void refreshLists()
})
$('clients-next').addEventListener('click', () => {
  const cursor = $('clients-next').dataset.cursor
  if (cursor) cursors.push(cursor)
  void refreshLists()
})
$('clients-prev').addEventListener('click', () => {
  if (cursors.length > 1) cursors.pop()
  void refreshLists()
})

$('broadcast-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const text = $('broadcast-message').value
  let message = text
  try {
    message = JSON.parse(text)
  } catch {}
  void act(() => api('POST', '/api/broadcast', { message }), 'Broadcast sent to every client.').then((ok) => {
    if (ok) $('broadcast-message').value = ''
  })
})

$('room-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const body = { id: $('room-id').value.trim() }
  if ($('room-name').value.trim() !== '') body.name = $('room-name').value.trim()
  if ($('room-max').value !== '') body.max_clients = Number($('room-max').value)
  void act(() => api('POST', '/api/rooms', body), `Created room ${body.id}.`).then((ok) => {
    if (ok) for (const id of ['room-id', 'room-name', 'room-max']) $(id).value = ''
  })
})

document.body.dataset.ready = 'true'
