package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/chatroom/gochat/room/protocol"
	"github.com/mailru/easyjson/jlexer"
)

// MessagesQuery selects a page of a room's history. Zero fields are left out
// of the request, so the server's defaults apply.
type MessagesQuery struct {
	// Since: only messages with a higher id, oldest first.
	Since int64
	// Limit: at most this many (the server allows 1 to 500; default 50).
	Limit int
	// Before: only messages with a lower id (for servers that support it).
	Before int64
}

// RoomInfo reads GET /api/rooms/{room}: the roster, the open connections and
// the last message id. A refusal is an *HTTPError.
func (c *Client) RoomInfo(ctx context.Context) (protocol.RoomInfo, error) {
	var info protocol.RoomInfo
	err := c.get(ctx, "/api/rooms/"+c.opts.Room, nil, &info)
	return info, err
}

// Messages reads a page of the room's history, GET
// /api/rooms/{room}/messages. A refusal is an *HTTPError (invalid_since,
// invalid_limit, ...).
func (c *Client) Messages(ctx context.Context, q MessagesQuery) (protocol.MessagesPage, error) {
	v := url.Values{}
	if q.Since > 0 {
		v.Set("since", strconv.FormatInt(q.Since, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Before > 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	var page protocol.MessagesPage
	err := c.get(ctx, "/api/rooms/"+c.opts.Room+"/messages", v, &page)
	return page, err
}

// get fetches a JSON body into v, with the token, asking the TokenFunc for
// another token once after a 401.
func (c *Client) get(ctx context.Context, path string, query url.Values, v interface{ UnmarshalEasyJSON(*jlexer.Lexer) }) error {
	u := *c.base
	u.Path = joinPath(u.Path, path)
	u.RawQuery = query.Encode()
	for try := 0; ; try++ {
		tok, err := c.token(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return err
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := c.http.Do(req)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			he := httpError(res)
			res.Body.Close()
			if he.StatusCode == http.StatusUnauthorized && c.opts.TokenFunc != nil && try == 0 {
				continue
			}
			return he
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, c.opts.ReadLimit))
		res.Body.Close()
		if err != nil {
			return err
		}
		return protocol.Unmarshal(body, v)
	}
}
