module github.com/chatroom/gochat

go 1.26.8

require (
	github.com/coder/websocket v1.8.15
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/mailru/easyjson v0.9.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/josharian/intern v1.0.0 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	github.com/syumai/workers v0.32.0 // indirect
)

tool (
	github.com/mailru/easyjson/easyjson
	github.com/syumai/workers/cmd/workers-assets-gen
)
