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
// keyed by the object's id. Entries are caches: roomInit resets one when the
// runtime constructs its object again, and an entry goes when its last socket
// does.
var rooms = map[string]*roomState{}

type roomState struct {
	room *room.Room
	// fanout is the JS array of the sockets in the room's current member
	// slice, kept so that a broadcast to an unchanged membership costs one
	// call into JS.
	fanout    js.Value
	fanoutKey *room.Socket
	fanoutLen int
	// schemaReady caches that the messages table exists.
	schemaReady bool
}

func getRoom(key string, env js.Value) *roomState {
	st, ok := rooms[key]
	if !ok {
		st = &roomState{room: room.New(configFrom(env))}
		rooms[key] = st
	}
	return st
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

// roomInit runs in the object's constructor. A constructor means the object
// may have been evicted, so whatever Go cached for it is dropped. It also
// installs the ping auto-response, which answers without waking the object.
func roomInit(args []js.Value) any {
	ctx, env := args[0], args[1]
	key := ctx.Get("id").Call("toString").String()
	delete(rooms, key)
	getRoom(key, env)
	ctx.Call("setWebSocketAutoResponse", jsPairClass.New(autoPing, autoPong))
	return key
}

// roomFetch serves what the front worker forwarded: a WebSocket upgrade,
// accepted with the hibernation API, or a room HTTP API read. The request is
// routed again with the same rules, so the object trusts no other caller.
func roomFetch(args []js.Value) any {
	key, ctx, env, req := args[0].String(), args[1], args[2], args[3]
	u := jsURL.New(req.Get("url"))
	route := room.Decide(req.Get("method").String(), u.Get("pathname").String(), header(req, "Upgrade"))
	st := getRoom(key, env)
	switch {
	case route.Status != 0:
		return routeResponse(route)
	case route.Kind == room.KindInfo, route.Kind == room.KindMessages:
		query, err := url.ParseQuery(strings.TrimPrefix(u.Get("search").String(), "?"))
		if err != nil {
			return routeResponse(room.HTTPErrorRoute(400, "invalid_query", "the query string is malformed"))
		}
		status, body := st.room.ServeHTTP(host{ctx: ctx, st: st}, route, query)
		return jsonResponse(status, body, nil)
	}
	h := host{ctx: ctx, st: st}
	if st.room.Full(h) {
		return routeResponse(room.HTTPErrorRoute(503, "room_full", "this room has reached its connection limit; try again later"))
	}
	pair := jsWebSocketPair.New()
	client, server := pair.Index(0), pair.Index(1)
	ctx.Call("acceptWebSocket", server)
	if err := st.room.Accept(h, socket{server}, header(req, userHeader)); err != nil {
		server.Call("close", room.CloseInternal, "could not register the connection")
	}
	return jsResponse.New(nil, map[string]any{"status": 101, "webSocket": client})
}

func roomMessage(args []js.Value) any {
	key, ctx, env, ws, msg, size := args[0].String(), args[1], args[2], args[3], args[4], args[5].Int()
	st := getRoom(key, env)
	h, s := host{ctx: ctx, st: st}, socket{ws}
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
	return nil
}

func roomClose(args []js.Value) any {
	key, ctx, env, ws := args[0].String(), args[1], args[2], args[3]
	code, reason := args[4].Int(), args[5].String()
	st := getRoom(key, env)
	st.room.Close(host{ctx: ctx, st: st}, socket{ws}, code, reason)
	forgetIfEmpty(key, st)
	return nil
}

// roomAlarm is the object's alarm: the idle sweep.
func roomAlarm(args []js.Value) any {
	key, ctx, env := args[0].String(), args[1], args[2]
	st := getRoom(key, env)
	st.room.Alarm(host{ctx: ctx, st: st})
	forgetIfEmpty(key, st)
	return nil
}

func roomError(args []js.Value) any {
	key, ctx, env, ws := args[0].String(), args[1], args[2], args[3]
	st := getRoom(key, env)
	st.room.Error(host{ctx: ctx, st: st}, socket{ws})
	forgetIfEmpty(key, st)
	return nil
}

// forgetIfEmpty drops a room with no sockets left, so that objects the
// runtime evicts for good leave nothing behind in Go.
func forgetIfEmpty(key string, st *roomState) {
	if st.room.Empty() && rooms[key] == st {
		delete(rooms, key)
	}
}
