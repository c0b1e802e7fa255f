//go:build js && wasm

package main

import (
	"net/url"
	"strconv"
	"strings"
	"syscall/js"
	"time"

	"github.com/chatroom/gochat/room"
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
	room *room.Room
	// fanout is the JS array of the sockets in the room's current member
	// slice, kept so that a broadcast to an unchanged membership costs one
	// call into JS.
	fanout    js.Value
	fanoutKey *room.Socket
	fanoutLen int
	// schemaReady caches that the messages table exists.
	schemaReady bool
	// lastFrame and lastFrameJS remember the last frame converted to a JS
	// string, so that a message's insert and its broadcast share one.
	lastFrame   *byte
	lastFrameN  int
	lastFrameJS js.Value
}

// frameValue converts a frame to a JS string, reusing the last conversion
// when it is the same slice.
func (st *roomState) frameValue(frame []byte) js.Value {
	if len(frame) == 0 {
		return js.ValueOf("")
	}
	if st.lastFrame != &frame[0] || st.lastFrameN != len(frame) {
		st.lastFrame, st.lastFrameN, st.lastFrameJS = &frame[0], len(frame), js.ValueOf(string(frame))
	}
	return st.lastFrameJS
}

// unknownRoom (null) is the answer to an event for a key Go no longer holds;
// the object registers again and repeats the event. Every other answer is
// undefined or a Response.
var unknownRoom = js.Null()

// eventHost returns the room for key and a host for one event, stamped with
// the event's time.
func eventHost(key int) (*roomState, host, bool) {
	st, ok := rooms[key]
	if !ok {
		return nil, host{}, false
	}
	return st, host{st: st, now: time.Now()}, true
}

// configFrom reads the room's tunables from the Worker's vars; a var that is
// unset keeps the default, and a malformed one is logged and ignored.
func configFrom(env js.Value) room.Config {
	cfg := room.DefaultConfig()
	idle := int(cfg.IdleTimeout / time.Second)
	rate := int(cfg.RatePerSecond)
	for _, v := range []struct {
		name string
		min  int
		dst  *int
	}{
		{"MAX_MESSAGE_CHARS", 1, &cfg.MaxTextChars},
		{"MAX_STORED_MESSAGES", 1, &cfg.KeepMessages},
		{"HISTORY_ON_JOIN", 1, &cfg.JoinHistory},
		{"RATE_LIMIT_BURST", 1, &cfg.RateBurst},
		{"RATE_LIMIT_PER_SECOND", 1, &rate},
		{"RATE_LIMIT_CLOSE_AFTER", 1, &cfg.CloseAfterRejects},
		{"IDLE_TIMEOUT_SECONDS", 0, &idle},
		{"MAX_CONNECTIONS_PER_ROOM", 1, &cfg.MaxConnections},
		{"PRESENCE_BROADCAST_LIMIT", 0, &cfg.PresenceLimit},
	} {
		s := envString(env, v.name)
		if s == "" {
			continue
		}
		if n, err := strconv.Atoi(s); err == nil && n >= v.min {
			*v.dst = n
		} else {
			jsConsole.Call("error", "gochat: "+v.name+" must be an integer of at least "+strconv.Itoa(v.min)+"; using the default")
		}
	}
	cfg.IdleTimeout = time.Duration(idle) * time.Second
	cfg.RatePerSecond = float64(rate)
	cfg.BlockedWords = room.ParseWords(envString(env, "BLOCKED_WORDS"))
	return cfg
}

var (
	autoPing = js.ValueOf(room.PingFrame)
	autoPong = js.ValueOf(room.PongFrame)
)

// roomInit registers an object with Go: in its constructor, and again when
// Go no longer holds its key. A constructor means the object may have been
// evicted, so whatever Go cached for it is dropped. It also installs the ping
// auto-response, which answers without waking the object.
func roomInit(args []js.Value) any {
	ctx, env := args[0], args[1]
	id := ctx.Get("id").Call("toString").String()
	if old, ok := byID[id]; ok {
		delete(rooms, old)
	}
	key := nextKey
	nextKey++
	rooms[key] = &roomState{id: id, ctx: ctx, sql: ctx.Get("storage").Get("sql"), room: room.New(configFrom(env))}
	byID[id] = key
	ctx.Call("setWebSocketAutoResponse", jsPairClass.New(autoPing, autoPong))
	return key
}

// roomFetch serves what the front worker forwarded: a WebSocket upgrade,
// accepted with the hibernation API, or a room HTTP API read. The request is
// routed again with the same rules, so the object trusts no other caller.
func roomFetch(args []js.Value) any {
	st, h, ok := eventHost(args[0].Int())
	if !ok {
		return unknownRoom
	}
	req := args[1]
	u := jsURL.New(req.Get("url"))
	route := room.Decide(req.Get("method").String(), u.Get("pathname").String(), header(req, "Upgrade"))
	switch {
	case route.Status != 0:
		return routeResponse(route)
	case route.Kind == room.KindInfo, route.Kind == room.KindMessages:
		query, err := url.ParseQuery(strings.TrimPrefix(u.Get("search").String(), "?"))
		if err != nil {
			return routeResponse(room.HTTPErrorRoute(400, "invalid_query", "the query string is malformed"))
		}
		status, body := st.room.ServeHTTP(h, route, query)
		return jsonResponse(status, body, nil)
	}
	if st.room.Full(h) {
		return routeResponse(room.HTTPErrorRoute(503, "room_full", "this room has reached its connection limit; try again later"))
	}
	pair := jsWebSocketPair.New()
	client, server := pair.Index(0), pair.Index(1)
	st.ctx.Call("acceptWebSocket", server)
	if err := st.room.Accept(h, socket{server}, header(req, userHeader)); err != nil {
		server.Call("close", room.CloseInternal, "could not register the connection")
	}
	return jsResponse.New(nil, map[string]any{"status": 101, "webSocket": client})
}

func roomMessage(args []js.Value) any {
	st, h, ok := eventHost(args[0].Int())
	if !ok {
		return unknownRoom
	}
	s, msg, size := socket{args[1]}, args[2], args[3].Int()
	// size is UTF-16 units for text and bytes for binary. A string of n units
	// has at least n UTF-8 bytes, so an oversized frame is refused before it
	// is copied into Go's memory, which never shrinks.
	switch {
	case size > st.room.MaxFrameBytes():
		st.room.TooBig(h, s)
	case msg.Type() == js.TypeString:
		st.room.Message(h, s, []byte(msg.String()), false)
	default:
		st.room.Message(h, s, nil, true)
	}
	return js.Undefined()
}

func roomClose(args []js.Value) any {
	st, h, ok := eventHost(args[0].Int())
	if !ok {
		return unknownRoom
	}
	st.room.Close(h, socket{args[1]}, args[2].Int(), args[3].String())
	forgetIfEmpty(st)
	return js.Undefined()
}

func roomError(args []js.Value) any {
	st, h, ok := eventHost(args[0].Int())
	if !ok {
		return unknownRoom
	}
	st.room.Error(h, socket{args[1]})
	forgetIfEmpty(st)
	return js.Undefined()
}

// roomAlarm is the object's alarm: the idle sweep.
func roomAlarm(args []js.Value) any {
	st, h, ok := eventHost(args[0].Int())
	if !ok {
		return unknownRoom
	}
	st.room.Alarm(h)
	forgetIfEmpty(st)
	return js.Undefined()
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
