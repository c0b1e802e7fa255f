//go:build js && wasm

package main

import (
	"runtime"
	"syscall/js"
	"time"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/chatroom/gochat/room"
)

// roomBinding is the Durable Object namespace of ChatRoom in wrangler.toml.
const roomBinding = "CHAT_ROOM"

// assetsBinding serves worker/public, the chat page and client module.
const assetsBinding = "ASSETS"

// userHeader carries the verified identity from the front worker to the
// room. The front worker always deletes whatever the client sent under this
// name, so the room can trust it.
const userHeader = "X-Chat-User"

// frontFetch is the front worker (the Worker's fetch, a Wasm export like the
// object's events): it routes in Go, checks the token and origin before any
// object is touched, and forwards to the room's object, answering with the
// stub's Promise untouched so that the 101 and its webSocket reach the client
// as the object made them. The request and env wait in context.event[0] and
// [1]; the answer is left in context.event[2].
//
//go:wasmexport fetch
func frontFetch() int32 {
	defer recovered("fetch", func() {
		jsEvent.SetIndex(2, routeResponse(room.HTTPErrorRoute(500, "internal_error", "the worker failed to handle this request")))
	})
	jsEvent.SetIndex(2, front(jsEvent.Index(0), jsEvent.Index(1)))
	return 1
}

func front(req, env js.Value) js.Value {
	u := jsURL.New(req.Get("url"))
	headers := req.Get("headers")
	route := room.Decide(req.Get("method").String(), u.Get("pathname").String(), header(headers, jsUpgradeHeader))
	if route.Status != 0 {
		return routeResponse(route)
	}
	if route.Kind == room.KindPage {
		// Every room has the same page; it reads the room from the URL.
		return env.Get(assetsBinding).Call("fetch", jsURL.New("/", req.Get("url")).Call("toString"))
	}
	cfg := frontFrom(env)
	if route.Kind == room.KindSocket && !auth.OriginAllowed(cfg.origins, header(headers, jsOriginHeader)) {
		return routeResponse(room.HTTPErrorRoute(403, "forbidden_origin", "this Origin may not open chat connections"))
	}
	var user []byte // empty: open mode, no identity to vouch for
	if cfg.secret != nil {
		token := auth.FromRequest(searchParam(u, "token"), header(headers, jsAuthHeader))
		id, err := auth.Verify(token, cfg.secret, time.Now(), func(s string) bool { return room.ValidUserID(s) == nil })
		if err != nil {
			return routeResponse(room.HTTPErrorRoute(401, "unauthorized", err.Error()))
		}
		user = []byte(id)
	}
	// The glue copies the request with userHeader removed, and set to user
	// when there is one, and sends it to the room's stub.
	name := []byte(route.Room)
	np, nn := goText(name)
	up, un := goText(user)
	answer := jsForward.Invoke(req, env.Get(roomBinding), jsUserHeader, np, nn, up, un)
	runtime.KeepAlive(name)
	runtime.KeepAlive(user)
	return answer
}

// frontConfig is what the front worker takes from the vars and secrets:
// ALLOWED_ORIGINS parsed, and AUTH_SECRET (nil in open mode).
type frontConfig struct {
	origins []string
	secret  []byte
}

// lastFrontEnv and lastFront cache frontFrom for the env object the runtime
// passes to every request, as configFrom does for the rooms.
var (
	lastFrontEnv js.Value
	lastFront    frontConfig
	haveFront    bool
)

func frontFrom(env js.Value) frontConfig {
	if haveFront && env.Equal(lastFrontEnv) {
		return lastFront
	}
	cfg := frontConfig{origins: auth.ParseOrigins(envString(env, "ALLOWED_ORIGINS"))}
	if secret := envString(env, "AUTH_SECRET"); secret != "" {
		cfg.secret = []byte(secret)
	}
	lastFrontEnv, lastFront, haveFront = env, cfg, true
	return cfg
}

// routeResponse answers a request the router decided on by itself.
func routeResponse(route room.Route) js.Value {
	switch route.Status {
	case 426:
		return jsonResponse(route.Status, route.Body, map[string]any{"upgrade": "websocket"})
	case 405:
		return jsonResponse(route.Status, route.Body, map[string]any{"allow": route.Allow})
	case 401:
		return jsonResponse(route.Status, route.Body, map[string]any{"www-authenticate": `Bearer realm="gochat"`})
	}
	return jsonResponse(route.Status, route.Body, nil)
}

// envString reads a var or secret, "" when unset.
func envString(env js.Value, name string) string {
	if v := env.Get(name); v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}

func searchParam(u js.Value, name string) string {
	v := u.Get("searchParams").Call("get", name)
	if v.IsNull() || v.IsUndefined() {
		return ""
	}
	return v.String()
}
