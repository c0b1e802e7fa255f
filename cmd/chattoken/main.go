// Command chattoken mints a signed token for a protected room, for local use:
//
//	go run ./cmd/chattoken -user alice [-ttl 1h] [-rooms 'lobby,team-*'] [-role moderator] [-aud A] [-iss I]
//
// It signs with AUTH_SECRET from the environment, or else from .dev.vars
// (the file wrangler dev reads secrets from), and prints the token. -aud and
// -iss default to AUTH_AUDIENCE and AUTH_ISSUER from the environment, for a
// deployment that checks them.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/chatroom/gochat/room/protocol"
)

func main() {
	user := flag.String("user", "", "the userId the token signs in as (required)")
	ttl := flag.Duration("ttl", time.Hour, "how long the token is valid")
	vars := flag.String("dev-vars", ".dev.vars", "file to read AUTH_SECRET from when it is not in the environment")
	rooms := flag.String("rooms", "", "comma-separated rooms the token opens (exact, or a prefix ending in *); empty: every room")
	aud := flag.String("aud", os.Getenv("AUTH_AUDIENCE"), "the token's aud (default $AUTH_AUDIENCE)")
	iss := flag.String("iss", os.Getenv("AUTH_ISSUER"), "the token's iss (default $AUTH_ISSUER)")
	role := flag.String("role", "", "the token's role: member (the default), moderator or service")
	flag.Parse()
	g := auth.Grant{UserID: *user, TTL: *ttl, Rooms: splitRooms(*rooms), Audience: *aud, Issuer: *iss, Role: *role}
	if err := run(g, *vars); err != nil {
		fmt.Fprintln(os.Stderr, "chattoken:", err)
		os.Exit(2)
	}
}

// splitRooms parses -rooms; empty means no claim at all.
func splitRooms(csv string) []string {
	var out []string
	for _, r := range strings.Split(csv, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func run(g auth.Grant, varsPath string) error {
	if rej := protocol.ValidUserID(g.UserID); rej != nil {
		return fmt.Errorf("-user: %s", rej.Message)
	}
	if g.TTL <= 0 {
		return errors.New("-ttl must be positive")
	}
	switch g.Role {
	case "", protocol.RoleMember, protocol.RoleModerator, protocol.RoleService:
	default:
		return fmt.Errorf("-role must be member, moderator or service, not %q", g.Role)
	}
	if g.TTL > auth.DefaultMaxTTL {
		fmt.Fprintf(os.Stderr, "chattoken: warning: a token living over %v is refused unless AUTH_MAX_TTL_SECONDS allows it\n", auth.DefaultMaxTTL)
	}
	secret := os.Getenv("AUTH_SECRET")
	if secret == "" {
		var err error
		if secret, err = readDevVar(varsPath, "AUTH_SECRET"); err != nil {
			return err
		}
	}
	token, err := auth.MintGrant([]byte(secret), time.Now(), g)
	if err != nil {
		return err
	}
	fmt.Println(token)
	return nil
}

// readDevVar reads NAME=value from a .dev.vars file (dotenv syntax: # comments,
// optional quotes).
func readDevVar(path, name string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("AUTH_SECRET is not set and %s cannot be read: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") || strings.TrimSpace(k) != name {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if v == "" {
			break
		}
		return v, nil
	}
	return "", fmt.Errorf("%s has no %s", path, name)
}
