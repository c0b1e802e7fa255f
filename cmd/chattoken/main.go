// Command chattoken mints a signed token for a protected room, for local use:
//
//	go run ./cmd/chattoken -user alice [-ttl 1h]
//
// It signs with AUTH_SECRET from the environment, or else from .dev.vars
// (the file wrangler dev reads secrets from), and prints the token.
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
	flag.Parse()
	if err := run(*user, *ttl, *vars); err != nil {
		fmt.Fprintln(os.Stderr, "chattoken:", err)
		os.Exit(2)
	}
}

func run(user string, ttl time.Duration, varsPath string) error {
	if rej := protocol.ValidUserID(user); rej != nil {
		return fmt.Errorf("-user: %s", rej.Message)
	}
	if ttl <= 0 {
		return errors.New("-ttl must be positive")
	}
	secret := os.Getenv("AUTH_SECRET")
	if secret == "" {
		var err error
		if secret, err = readDevVar(varsPath, "AUTH_SECRET"); err != nil {
			return err
		}
	}
	token, err := auth.Mint(user, ttl, []byte(secret), time.Now())
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
