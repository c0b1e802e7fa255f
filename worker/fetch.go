//go:build js && wasm

package main

import (
	"syscall/js"

	"github.com/chatroom/gochat/room"
)

// roomBinding is the Durable Object namespace of ChatRoom in wrangler.toml.
const roomBinding = "CHAT_ROOM"

// assetsBinding serves worker/public, the chat page and client module.
const assetsBinding = "ASSETS"

// fetch is the front worker: it routes in Go and forwards upgrades to the
// room's object, returning the stub's Promise untouched so that the 101 and
// its webSocket reach the client as the object made them.
func fetch(args []js.Value) any {
	req, env := args[0], args[1]
	path := jsURL.New(req.Get("url")).Get("pathname").String()
	route := room.Decide(req.Get("method").String(), path, header(req, "Upgrade"))
	if route.Status != 0 {
		return routeResponse(route)
	}
	if route.Kind == room.KindPage {
		// Every room has the same page; it reads the room from the URL.
		return env.Get(assetsBinding).Call("fetch", jsURL.New("/", req.Get("url")).Call("toString"))
	}
	ns := env.Get(roomBinding)
	stub := ns.Call("get", ns.Call("idFromName", route.Room))
	return stub.Call("fetch", req)
}

// routeResponse answers a request the router decided on by itself.
func routeResponse(route room.Route) js.Value {
	switch route.Status {
	case 426:
		return jsonResponse(route.Status, route.Body, map[string]any{"upgrade": "websocket"})
	case 405:
		return jsonResponse(route.Status, route.Body, map[string]any{"allow": route.Allow})
	}
	return jsonResponse(route.Status, route.Body, nil)
}
