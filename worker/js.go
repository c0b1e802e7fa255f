//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"

	"github.com/chatroom/gochat/internal/auth"
)

// JS globals the worker uses, looked up once per Go program.
var (
	jsURL         = js.Global().Get("URL")
	jsResponse    = js.Global().Get("Response")
	jsHeaders     = js.Global().Get("Headers")
	jsPairClass   = js.Global().Get("WebSocketRequestResponsePair")
	jsConsole     = js.Global().Get("console")
	jsContext     = js.Global().Get("context")
	jsNoSockets   = js.Global().Get("Array").New()
	jsSQLValue    = jsContext.Get("sqlValue")
	jsSelect      = jsContext.Get("select")
	jsSetFanout   = jsContext.Get("setFanout")
	jsSendText    = jsContext.Get("sendText")
	jsAttachText  = jsContext.Get("attachText")
	jsFailedSends = jsContext.Get("failedSends")
	jsStatements  = jsContext.Get("statements")
	jsEvent       = jsContext.Get("event") // the current event's values, by name: see eventValue
	jsSockets     = jsContext.Get("sockets")
	jsEnsureAlarm = jsContext.Get("ensureAlarm")
	jsAccept      = jsContext.Get("accept")
	jsCloseText   = jsContext.Get("closeText")
	jsForward     = jsContext.Get("forward")
)

// The names of the current event's values in context.event: glue.mjs sets
// those an export needs before calling it and clears them all after.
const (
	eventRequest  = "request"  // fetch, roomFetch: the Request
	eventEnv      = "env"      // fetch, roomInit: the Worker's env
	eventCtx      = "ctx"      // roomInit: the object's DurableObjectState
	eventSocket   = "socket"   // roomMessage, roomClose, roomError: the WebSocket
	eventAccepted = "accepted" // roomFetch: the server end accept() just accepted
	eventAnswer   = "answer"   // fetch, roomFetch: the Response (or its Promise) Go answers
)

// eventValue returns one of the current event's values.
func eventValue(name string) js.Value { return jsEvent.Get(name) }

// answer leaves the Response of a fetch event for the glue.
func answer(v js.Value) { jsEvent.Set(eventAnswer, v) }

// recovered is deferred by every Wasm export: a panic, including one from a
// JS exception inside js.Value.Call, is logged, then onPanic runs, and the
// export returns what it had set, so the Go program never exits.
func recovered(name string, onPanic func()) {
	if p := recover(); p != nil {
		jsConsole.Call("error", fmt.Sprintf("gochat: %s: %v", name, p))
		if onPanic != nil {
			onPanic()
		}
	}
}

// try runs fn and turns a JS exception (a panic in syscall/js) into an error.
func try(fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	fn()
	return nil
}

// jsonResponse builds a Response with a JSON body.
func jsonResponse(status int, body []byte, extra map[string]any) js.Value {
	// Never sniffed as anything else, never cached: every answer is live.
	headers := map[string]any{"content-type": "application/json; charset=utf-8",
		"x-content-type-options": "nosniff", "cache-control": "no-store"}
	for k, v := range extra {
		headers[k] = v
	}
	return jsResponse.New(string(body), map[string]any{"status": status, "headers": headers})
}

// Header names, made once: a Go string passed to JS becomes a new JS string
// every time.
var (
	jsUpgradeHeader     = js.ValueOf("Upgrade")
	jsUserHeader        = js.ValueOf(userHeader)
	jsExpiresHeader     = js.ValueOf(expiresHeader)
	jsRoleHeader        = js.ValueOf(roleHeader)
	jsIdempotencyHeader = js.ValueOf("Idempotency-Key")
	jsProtocolHeader    = js.ValueOf("Sec-WebSocket-Protocol")
	jsIPHeader          = js.ValueOf("CF-Connecting-IP")
	jsSubprotocol       = js.ValueOf(auth.Subprotocol)
	jsOriginHeader      = js.ValueOf("Origin")
	jsAuthHeader        = js.ValueOf("Authorization")
)

// header returns a request header, or "" when absent.
func header(headers, name js.Value) string {
	v := headers.Call("get", name)
	if v.IsNull() || v.IsUndefined() {
		return ""
	}
	return v.String()
}
