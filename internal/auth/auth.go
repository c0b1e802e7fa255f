// Package auth verifies and mints the signed tokens of protected rooms:
// HS256 JWTs whose "sub" is the userId and whose "exp" is required. Parsing
// and validation are github.com/golang-jwt/jwt/v5's, never hand-rolled.
package auth

import (
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrMissing is a request that carries no token at all.
var ErrMissing = errors.New("a token is required: pass ?token=<jwt> or Authorization: Bearer <jwt>")

// ErrExpired is a well-signed token past its exp.
var ErrExpired = errors.New("the token has expired")

// ErrInvalid is any other token problem: bad signature, wrong algorithm
// (including alg=none), missing exp, missing or invalid sub.
var ErrInvalid = errors.New("the token is invalid")

// Verify checks token against secret at time now and returns its userId.
// validUser is the userId rule the room applies to joins.
//
// Verify runs the same steps as jwt.ParseWithClaims, in its order, from
// golang-jwt's own parts: ParseUnverified, the algorithm check,
// SigningMethodHS256.Verify, then the library's claims Validator. Only the
// dispatch differs: ParseWithClaims verifies through the SigningMethod
// interface, which links every registered algorithm's verifier (ECDSA, RSA,
// Ed25519 and math/big: about 0.12 MB of the gzipped Wasm) into a program that only ever
// accepts HS256.
func Verify(token string, secret []byte, now time.Time, validUser func(string) bool) (string, error) {
	if token == "" {
		return "", ErrMissing
	}
	claims := &jwt.RegisteredClaims{}
	parsed, parts, err := parser.ParseUnverified(token, claims)
	if err != nil || parsed.Method != jwt.SigningMethodHS256 {
		return "", ErrInvalid
	}
	if jwt.SigningMethodHS256.Verify(parts[0]+"."+parts[1], parsed.Signature, secret) != nil {
		return "", ErrInvalid
	}
	err = jwt.NewValidator(jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now })).Validate(claims)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return "", ErrExpired
	}
	if err != nil || claims.Subject == "" || !validUser(claims.Subject) {
		return "", ErrInvalid
	}
	return claims.Subject, nil
}

// parser decodes tokens; Verify checks what it decoded.
var parser = jwt.NewParser()

// Mint signs a token for userID that expires after ttl.
func Mint(userID string, ttl time.Duration, secret []byte, now time.Time) (string, error) {
	claims := jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// FromRequest picks the token from the query's token parameter or an
// Authorization: Bearer header; browsers cannot set headers on a WebSocket,
// so the query comes first.
func FromRequest(queryToken, authorization string) string {
	if queryToken != "" {
		return queryToken
	}
	const prefix = "Bearer "
	if len(authorization) > len(prefix) && (authorization[:len(prefix)] == prefix || authorization[:len(prefix)] == "bearer ") {
		return authorization[len(prefix):]
	}
	return ""
}

// OriginAllowed applies the ALLOWED_ORIGINS rule to an upgrade: with no list
// every origin passes; with one, an Origin header that is present must be
// listed (compared case-insensitively, without a trailing slash). Clients
// that send no Origin, such as wscat or servers, pass: the rule exists to
// stop other sites' pages from using a visitor's browser (cross-site
// WebSocket hijacking), and browsers always send Origin.
func OriginAllowed(allowed []string, origin string) bool {
	if len(allowed) == 0 || origin == "" {
		return true
	}
	origin = strings.TrimSuffix(strings.ToLower(origin), "/")
	for _, a := range allowed {
		if origin == a {
			return true
		}
	}
	return false
}

// ParseOrigins splits a comma-separated ALLOWED_ORIGINS value.
func ParseOrigins(csv string) []string {
	var out []string
	for _, o := range strings.Split(csv, ",") {
		if o = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}
