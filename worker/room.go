//go:build js && wasm

package main

import (
	"net/url"
	"strconv"
	"strings"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/chatroom/gochat/internal/config"
	"github.com/chatroom/gochat/internal/router"
	"github.com/chatroom/gochat/internal/sqlstore"
	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

// rooms holds the Go side of every ChatRoom object living in this isolate,
// keyed by a number handed out when the object registers (roomInit). Entries
// are caches: an entry goes when its last socket does, and the object then
// registers again on its next event (glue.mjs), as it does after every
// construction.
var (
	rooms   = map[int]*roomState{}
	byID    = map[string]int{} // object id -> current key
	nextKey = 1
)

type roomState struct {
	id   string
	ctx  js.Value // the object's DurableObjectState
	sql  js.Value // ctx.storage.sql
	cfg  room.Config
	room *room.Room
	host host // the current event's (eventHost)
	// fanoutKey and fanoutLen name the member slice whose sockets the
	// object holds as its fan-out list (glue.mjs setFanout), so that a
	// broadcast to an unchanged membership costs one call into JS.
	//
	// The key is the address of the slice's first element. That is safe as
	// an identity: the room hands Broadcast the same cached slice until the
	// membership changes and then makes a new one (room.Host.Broadcast), and
	// while fanoutKey points into the old array, Go's collector keeps that
	// array alive, so no new slice can be allocated at the same address and
	// be taken for the old list.
	fanoutKey *room.Socket
	fanoutLen int
	// history is the object's message store, and historyState what it
	// learned of the database in this object's life (the table, the prune
	// trigger).
	history      sqlstore.Store
	historyState sqlstore.State
}

// goText is how Go hands text it made to the glue: its address and length
// in Go's memory (see glue.mjs). The bytes must stay unchanged for the call
// they are passed to.
//
// The glue keeps the last text it decoded and reuses it for the same address
// and length within one call into Go (a message's insert and its fan-out
// hand over the same frame). That memo is safe because of two rules:
//   - Go never writes into a buffer it has handed over: every frame and
//     attachment is a fresh []byte that is only read after it is made;
//   - lastHanded keeps the last handed-over buffer alive until the next
//     one, so the collector cannot free it and hand its address to a new
//     text of the same length that the glue would take for the old one.
//
// The glue forgets the memo when the call into Go returns.
func goText(b []byte) (ptr, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	lastHanded = b
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), len(b)
}

var lastHanded []byte

// eventHost returns the room for key and a host for one event, stamped with
// the event's time.
func eventHost(key int) (*roomState, *host, bool) {
	return eventHostAt(key, time.Now())
}

// eventHostAt is eventHost at a time the glue read (Date.now()): the hot path
// saves the two calls into JS that time.Now makes.
func eventHostAt(key int, now time.Time) (*roomState, *host, bool) {
	st, ok := rooms[key]
	if !ok {
		return nil, nil, false
	}
	// One host per room, restamped for each event: events run one at a
	// time, the room keeps no Host past an event, and a pointer becomes a
	// room.Host without an allocation.
	st.host = host{st: st, now: now}
	return st, &st.host, true
}

// lastEnv and lastConfig cache configFrom for the env object the runtime
// passes to every constructor: vars only change with a new deployment, and
// a wake then costs no reading of a dozen vars.
var (
	lastEnv    js.Value
	lastConfig room.Config
	haveConfig bool
)

// configFrom reads the room's tunables from the Worker's vars
// (internal/config): a var that is unset keeps the default, and a malformed
// one is logged and ignored.
func configFrom(env js.Value) room.Config {
	if haveConfig && env.Equal(lastEnv) {
		return lastConfig
	}
	cfg := config.Room(lookup(env), warn)
	lastEnv, lastConfig, haveConfig = env, cfg, true
	return cfg
}

// autoResponse is the ping the runtime answers without waking an object,
// made once per Go program.
var autoResponse = jsPairClass.New(protocol.PingFrame, protocol.PongFrame)

// roomInit registers an object with Go: in its constructor, and again when
// Go no longer holds its key. The object's ctx and env wait in context.event.
// A constructor means the object may have been evicted, so whatever Go cached
// for it is dropped. It also installs the ping auto-response, which answers
// without waking the object. It is a Wasm export, like roomMessage: a wake
// runs it first, and a js.FuncOf dispatch costs a trip through Go's
// scheduler. The ctx and env wait in the event's ctx and env. It answers the
// new key, or 0 when registering failed.
//
//go:wasmexport roomInit
func roomInit() (key int32) {
	defer recovered("roomInit", nil) // key stays 0
	ctx, env := eventValue(eventCtx), eventValue(eventEnv)
	id := ctx.Get("id").Call("toString").String()
	if old, ok := byID[id]; ok {
		delete(rooms, old)
	}
	k := nextKey
	nextKey++
	cfg := configFrom(env)
	st := &roomState{id: id, ctx: ctx, sql: ctx.Get("storage").Get("sql"), cfg: cfg, room: room.New(cfg)}
	st.history = sqlstore.Store{DB: sqlDB{st: st}, State: &st.historyState, Keep: cfg.KeepMessages}
	rooms[k] = st
	byID[id] = k
	ctx.Call("setWebSocketAutoResponse", autoResponse)
	return int32(k)
}

// roomFetch serves what the front worker forwarded: a WebSocket upgrade,
// accepted with the hibernation API, or a room HTTP API call. The request is
// routed again with the same rules, so the object trusts no other caller.
// The request waits in the event's request; a POST's body comes like a
// frame (size and kind, as roomMessage takes them, kindNone for no body);
// the Response is left in its answer.
//
//go:wasmexport roomFetch
func roomFetch(key, size, kind int32) int32 {
	defer func() { frameBuf = frameArea[:] }()
	return onRoom(key, "roomFetch", func(st *roomState, h *host) {
		var body []byte
		switch {
		case kind == kindOversize || int(size) > protocol.MaxBodyBytes:
			answer(routeResponse(router.Error(413, protocol.HTTPBodyTooLarge, "the body is over 64 KiB")))
			return
		case kind >= 0:
			body = frameBuf[:kind]
		}
		answer(serveRoom(st, h, eventValue(eventRequest), body))
	}, func() {
		answer(routeResponse(router.Error(500, "internal_error", "the room failed to handle this request")))
	})
}

// onRoom runs one event of the object registered under key: it answers 0
// when Go no longer holds the key, and 1 otherwise, whatever fn did (a panic
// is logged, then onPanic runs if given). A room left without sockets is
// dropped after the event.
func onRoom(key int32, name string, fn func(*roomState, *host), onPanic func()) (known int32) {
	defer recovered(name, onPanic)
	st, h, ok := eventHost(int(key))
	if !ok {
		return 0
	}
	known = 1
	fn(st, h)
	forgetIfEmpty(st)
	return known
}

func serveRoom(st *roomState, h *host, req js.Value, body []byte) js.Value {
	u := jsURL.New(req.Get("url"))
	headers := req.Get("headers")
	route := router.Decide(req.Get("method").String(), u.Get("pathname").String(), header(headers, jsUpgradeHeader))
	switch {
	case route.Status != 0:
		return routeResponse(route)
	case route.Kind == router.KindInfo:
		status, body := st.room.Info(h, route.Room)
		return jsonResponse(status, body, nil)
	case route.Kind == router.KindMessages:
		query, err := url.ParseQuery(strings.TrimPrefix(u.Get("search").String(), "?"))
		if err != nil {
			return routeResponse(router.Error(400, "invalid_query", "the query string is malformed"))
		}
		status, body := st.room.Messages(h, route.Room, query)
		return jsonResponse(status, body, nil)
	case route.Kind.ServerAPI():
		return serverAPI(st, h, route, req, u, body)
	}
	conn := room.Conn{User: header(headers, jsUserHeader), IP: room.AddressKey(header(headers, jsIPHeader))}
	if conn.User != "" {
		conn.Role = header(headers, jsRoleHeader)
	}
	if sec, err := strconv.ParseInt(header(headers, jsExpiresHeader), 10, 64); err == nil && conn.User != "" {
		conn.Expires = time.Unix(sec, 0)
	}
	if status, body := st.room.Admit(h, conn); status != 0 {
		return jsonResponse(status, body, nil)
	}
	// The glue makes the pair, accepts its server end with the hibernation
	// API (leaving it in the event's accepted), and answers the 101 that
	// hands the client end over, selecting the gochat subprotocol when the
	// client offered it (a browser that sends its token as a subprotocol
	// fails the connection unless one is selected).
	protocols := js.Undefined()
	if auth.OffersSubprotocol(header(headers, jsProtocolHeader)) {
		protocols = jsSubprotocol
	}
	upgraded := jsAccept.Invoke(st.ctx, protocols)
	server := &socket{st: st, ws: eventValue(eventAccepted)}
	if err := st.room.Accept(h, server, conn); err != nil {
		_ = server.Close(protocol.CloseInternal, "could not register the connection")
	}
	return upgraded
}

// frameArea is the standing buffer glue.mjs writes a text frame (or a close
// reason) into when it surely fits (at most 3 UTF-8 bytes per UTF-16 unit):
// its address is read once per Go program, so most frames cost no call to
// ask for room. It is safe to reuse for every event because events run one
// at a time, the glue writes it only right before calling an export, and the
// room only reads a frame during the call (room.Inbound): nothing keeps a
// slice of it past the export's return (a userId or text the room keeps is
// a copy the decoder made).
var frameArea [smallFrame]byte

// smallFrame is frameArea's size.
const smallFrame = 64 << 10

//go:wasmexport frameArea
func frameAreaAddr() uint32 { return uint32(uintptr(unsafe.Pointer(&frameArea[0]))) }

//go:wasmexport frameAreaSize
func frameAreaSize() int32 { return smallFrame }

// frameBuf is where the current frame is: frameArea, or for a frame that
// might not fit there, a buffer frameBuffer lent, which is dropped again
// after the frame so that a rare big frame does not pin memory.
var frameBuf = frameArea[:]

// frameBuffer lends glue.mjs room for a text frame of up to n UTF-8 bytes and
// returns its address, or 0 when the frame (of n/3 UTF-16 units) is over the
// room's limit, or the room is unknown.
//
//go:wasmexport frameBuffer
func frameBuffer(key, n int32) uint32 {
	st, ok := rooms[int(key)]
	if !ok || int(n/3) > st.cfg.MaxFrameBytes || n <= 0 {
		return 0
	}
	if int(n) > len(frameArea) {
		frameBuf = make([]byte, n)
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(frameBuf))))
}

// The kinds of frame roomMessage gets besides a text frame's byte count;
// glue.mjs spells them the same way.
const (
	kindOversize = -1 // a text frame not copied: it is over the limit
	kindBinary   = -2 // a binary frame, whose bytes Go never needs
	kindNone     = -3 // no body at all (roomFetch)
)

// roomMessage handles a frame: glue.mjs calls it directly as a Wasm export,
// with the socket waiting in the event's socket. size is the frame's length
// in UTF-16 units (text) or bytes (binary); tag is the socket's tag property,
// 0 when unset; kind is the number of UTF-8 bytes of a text frame in
// frameBuf, or kindOversize, or kindBinary; nowMs is the event's time
// (Date.now()). It answers 0 for a key Go no longer holds, and 1 otherwise.
//
//go:wasmexport roomMessage
func roomMessage(key, size int32, tag float64, kind int32, nowMs float64) (known int32) {
	defer func() { frameBuf = frameArea[:] }()
	defer recovered("roomMessage", nil)
	st, h, ok := eventHostAt(int(key), time.UnixMilli(int64(nowMs)))
	if !ok {
		return 0
	}
	known = 1
	s := &socket{st: st, tag: tag, hasTag: true, pending: true}
	switch {
	case kind == kindOversize || int(size) > st.cfg.MaxFrameBytes:
		// A string of n UTF-16 units has at least n UTF-8 bytes: refused
		// before it was copied into Go's memory, which never shrinks.
		st.room.Message(h, s, room.Inbound{Oversize: true})
	case kind == kindBinary:
		st.room.Message(h, s, room.Inbound{Binary: true})
	default:
		// The room only reads the frame, so the buffer serves as is.
		st.room.Message(h, s, room.Inbound{Text: frameBuf[:kind]})
	}
	return known
}

// roomClose is the runtime's close event for the socket waiting in the
// event's socket; tag is its tag property (0 when unset), and the peer's
// reason is in frameArea, reasonLen bytes of UTF-8.
//
//go:wasmexport roomClose
func roomClose(key int32, tag float64, code, reasonLen int32) int32 {
	return onRoom(key, "roomClose", func(st *roomState, h *host) {
		st.room.Close(h, &socket{st: st, tag: tag, hasTag: true, pending: true}, int(code), string(frameArea[:reasonLen]))
	}, nil)
}

// roomError is the runtime's error event for the socket in the event's socket.
//
//go:wasmexport roomError
func roomError(key int32, tag float64) int32 {
	return onRoom(key, "roomError", func(st *roomState, h *host) {
		st.room.Error(h, &socket{st: st, tag: tag, hasTag: true, pending: true})
	}, nil)
}

// roomAlarm is the object's alarm: the idle sweep.
//
//go:wasmexport roomAlarm
func roomAlarm(key int32) int32 {
	return onRoom(key, "roomAlarm", func(st *roomState, h *host) { st.room.Alarm(h) }, nil)
}

// forgetIfEmpty drops a room with no sockets left, so that objects the
// runtime evicts for good leave nothing behind in Go.
func forgetIfEmpty(st *roomState) {
	if !st.room.Empty() {
		return
	}
	if key, ok := byID[st.id]; ok && rooms[key] == st {
		delete(rooms, key)
		delete(byID, st.id)
	}
}

// serverAPI serves a call of the server API; the front worker let through
// only a moderator's or a service's token.
func serverAPI(st *roomState, h *host, route router.Route, req, u js.Value, body []byte) js.Value {
	headers := req.Get("headers")
	c := room.Caller{UserID: header(headers, jsUserHeader), Role: header(headers, jsRoleHeader)}
	if c.UserID == "" {
		return routeResponse(router.Error(403, protocol.CodeForbidden, "the server API needs a moderator's or a service's token"))
	}
	var status int
	var out []byte
	switch route.Kind {
	case router.KindPost:
		status, out = st.room.Post(h, c, body, header(headers, jsIdempotencyHeader))
	case router.KindDeleteMessage:
		status, out = st.room.DeleteMessage(h, c, route.Target)
	case router.KindKick:
		status, out = st.room.Kick(h, c, body)
	case router.KindBan:
		status, out = st.room.Ban(h, c, body)
	case router.KindBans:
		status, out = st.room.Bans(h, route.Room)
	case router.KindUnban:
		status, out = st.room.Unban(h, c, route.Target)
	case router.KindAudit:
		query, err := url.ParseQuery(strings.TrimPrefix(u.Get("search").String(), "?"))
		if err != nil {
			return routeResponse(router.Error(400, "invalid_query", "the query string is malformed"))
		}
		status, out = st.room.Audit(h, route.Room, query)
	}
	if status == 204 {
		return jsResponse.New(js.Null(), map[string]any{"status": 204, "headers": map[string]any{"cache-control": "no-store"}})
	}
	return jsonResponse(status, out, nil)
}
