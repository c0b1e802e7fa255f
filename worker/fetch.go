//go:build js && wasm

package main

import (
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

// fetch is the front worker: it routes in Go, checks the token and origin
// before any object is touched, and forwards to the room's object, returning
// the stub's Promise untouched so that the 101 and its webSocket reach the
// client as the object made them.
func fetch(args []js.Value) any {
	req, env := args[0], args[1]
	u := jsURL.New(req.Get("url"))
	reqHeaders := req.Get("headers")
	route := room.Decide(req.Get("method").String(), u.Get("pathname").String(), header(reqHeaders, jsUpgradeHeader))
	if route.Status != 0 {
		return routeResponse(route)
	}
	if route.Kind == room.KindPage {
		// Every room has the same page; it reads the room from the URL.
		return env.Get(assetsBinding).Call("fetch", jsURL.New("/", req.Get("url")).Call("toString"))
	}
	if route.Kind == room.KindSocket && !auth.OriginAllowed(auth.ParseOrigins(envString(env, "ALLOWED_ORIGINS")), header(reqHeaders, jsOriginHeader)) {
		return routeResponse(room.HTTPErrorRoute(403, "forbidden_origin", "this Origin may not open chat connections"))
	}
	headers := js.Global().Get("Headers").New(req.Get("headers"))
	headers.Call("delete", userHeader)
	if secret := envString(env, "AUTH_SECRET"); secret != "" {
		token := auth.FromRequest(searchParam(u, "token"), header(reqHeaders, jsAuthHeader))
		user, err := auth.Verify(token, []byte(secret), time.Now(), func(s string) bool { return room.ValidUserID(s) == nil })
		if err != nil {
			return routeResponse(room.HTTPErrorRoute(401, "unauthorized", err.Error()))
		}
		headers.Call("set", userHeader, user)
	}
	forward := js.Global().Get("Request").New(req, map[string]any{"headers": headers})
	ns := env.Get(roomBinding)
	stub := ns.Call("get", ns.Call("idFromName", route.Room))
	return stub.Call("fetch", forward)
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
