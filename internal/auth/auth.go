// Package auth verifies and mints the signed tokens of protected rooms:
// HS256 JWTs whose "sub" is the userId and whose "exp" is required. Parsing
// and validation are github.com/golang-jwt/jwt/v5's, never hand-rolled.
package auth

import (
	"errors"
	"strings"
	"time"

	"github.com/chatroom/gochat/room/protocol"
	"github.com/golang-jwt/jwt/v5"
)

// ErrMissing is a request that carries no token at all.
var ErrMissing = errors.New("a token is required: offer the subprotocols gochat and bearer.<jwt>, or pass Authorization: Bearer <jwt> or ?token=<jwt>")

// ErrExpired is a well-signed token past its exp (and the leeway).
var ErrExpired = errors.New("the token has expired")

// ErrInvalid is any other token problem: bad signature, wrong algorithm
// (including alg=none), missing exp, missing or invalid sub, a wrong
// audience or issuer, a lifetime over the limit, an iat in the future, a
// malformed rooms claim. Each of those errors Is ErrInvalid and says which.
var ErrInvalid = errors.New("the token is invalid")

// invalid is an ErrInvalid that says what is wrong.
type invalid string

func (e invalid) Error() string        { return "the token is invalid: " + string(e) }
func (e invalid) Is(target error) bool { return target == ErrInvalid }

// Leeway is the clock skew allowed between the token's issuer and this
// service, on exp, nbf and iat: clocks on the internet drift by seconds, and
// 30 s is short against any sensible token lifetime.
const Leeway = 30 * time.Second

// DefaultMaxTTL is AUTH_MAX_TTL_SECONDS' default: a token lives at most a
// day, so a leaked one cannot be used for ever (exp in the year 9999).
const DefaultMaxTTL = 24 * time.Hour

// Policy is what a deployment demands of a token beyond its signature.
type Policy struct {
	// Secret is the HS256 key (AUTH_SECRET).
	Secret []byte
	// Audience, when set, must be in the token's aud (AUTH_AUDIENCE).
	Audience string
	// Issuer, when set, must equal the token's iss (AUTH_ISSUER).
	Issuer string
	// MaxTTL bounds the token's lifetime: exp minus iat, or minus now when
	// there is no iat (AUTH_MAX_TTL_SECONDS). Zero means no bound.
	MaxTTL time.Duration
}

// Identity is what a verified token says.
type Identity struct {
	// UserID is the token's sub.
	UserID string
	// Expires is the token's exp; a socket opened with it closes then.
	Expires time.Time
	// Rooms is the token's rooms claim: nil when absent (every room).
	Rooms []string
	// Role is the token's role claim: protocol.RoleMember when absent,
	// protocol.RoleModerator or protocol.RoleService. It applies in every
	// room the token opens.
	Role string
}

// Opens reports whether the identity may use room: with no rooms claim every
// room, with one only a room named exactly, or starting with the part
// before a trailing "*" ("team-*" opens "team-a"; "*" opens all).
func (id Identity) Opens(room string) bool {
	if id.Rooms == nil {
		return true
	}
	for _, r := range id.Rooms {
		if prefix, ok := strings.CutSuffix(r, "*"); ok {
			if strings.HasPrefix(room, prefix) {
				return true
			}
		} else if r == room {
			return true
		}
	}
	return false
}

// claims are the token's claims: the registered ones and rooms.
type claims struct {
	jwt.RegisteredClaims
	Rooms []string `json:"rooms,omitempty"`
	Role  string   `json:"role,omitempty"`
}

// Verify checks token against the policy at time now and returns what it
// says. validUser is the userId rule the room applies to joins.
//
// Verify runs the same steps as jwt.ParseWithClaims, in its order, from
// golang-jwt's own parts: ParseUnverified, the algorithm check,
// SigningMethodHS256.Verify, then the library's claims Validator. Only the
// dispatch differs: ParseWithClaims verifies through the SigningMethod
// interface, which links every registered algorithm's verifier (ECDSA, RSA,
// Ed25519 and math/big: about 0.12 MB of the gzipped Wasm) into a program
// that only ever accepts HS256. The lifetime bound comes last, on a token
// known to be genuine.
func Verify(token string, p Policy, now time.Time, validUser func(string) bool) (Identity, error) {
	if token == "" {
		return Identity{}, ErrMissing
	}
	c := &claims{}
	parsed, parts, err := parser.ParseUnverified(token, c)
	if err != nil || parsed.Method != jwt.SigningMethodHS256 {
		return Identity{}, ErrInvalid
	}
	if jwt.SigningMethodHS256.Verify(parts[0]+"."+parts[1], parsed.Signature, p.Secret) != nil {
		return Identity{}, ErrInvalid
	}
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	}
	if p.Audience != "" {
		opts = append(opts, jwt.WithAudience(p.Audience))
	}
	if p.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(p.Issuer))
	}
	err = jwt.NewValidator(opts...).Validate(c)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Identity{}, ErrExpired
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return Identity{}, invalid("its aud does not name this service")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return Identity{}, invalid("its iss is not the expected issuer")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return Identity{}, invalid("its iat is in the future")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return Identity{}, invalid("its nbf is in the future")
	case err != nil:
		return Identity{}, ErrInvalid
	case c.Subject == "" || !validUser(c.Subject):
		return Identity{}, invalid("its sub is not a valid userId")
	}
	switch c.Role {
	case "":
		c.Role = protocol.RoleMember
	case protocol.RoleMember, protocol.RoleModerator, protocol.RoleService:
	default:
		return Identity{}, invalid("its role is not member, moderator or service")
	}
	exp := c.ExpiresAt.Time
	if p.MaxTTL > 0 {
		from := now
		if c.IssuedAt != nil {
			from = c.IssuedAt.Time
		}
		if exp.Sub(from) > p.MaxTTL {
			return Identity{}, invalid("it lives longer than " + p.MaxTTL.String())
		}
	}
	return Identity{UserID: c.Subject, Expires: exp, Rooms: c.Rooms, Role: c.Role}, nil
}

// parser decodes tokens; Verify checks what it decoded.
var parser = jwt.NewParser()

// Mint signs a token for userID that expires after ttl, for the rooms
// listed (nil: every room).
func Mint(userID string, ttl time.Duration, secret []byte, now time.Time, rooms ...string) (string, error) {
	return MintGrant(secret, now, Grant{UserID: userID, TTL: ttl, Rooms: rooms})
}

// Grant is what a minted token says.
type Grant struct {
	UserID string
	TTL    time.Duration
	// Rooms is the rooms claim; nil leaves it out (every room).
	Rooms []string
	// Audience and Issuer fill aud and iss when set.
	Audience, Issuer string
	// Role fills the role claim when set.
	Role string
}

// MintGrant signs a token for g, issued at now.
func MintGrant(secret []byte, now time.Time, g Grant) (string, error) {
	c := claims{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   g.UserID,
		Issuer:    g.Issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(g.TTL)),
	}, Rooms: g.Rooms, Role: g.Role}
	if g.Audience != "" {
		c.Audience = jwt.ClaimStrings{g.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}

// SubprotocolPrefix marks the token among the WebSocket subprotocols a
// browser offers ("bearer.<jwt>"): a browser cannot set headers on a
// WebSocket, and a subprotocol keeps the token out of the URL, and so out of
// history, shared links and request logs. A JWT is made of token characters
// only, so it is a valid subprotocol.
const SubprotocolPrefix = "bearer."

// Subprotocol is the subprotocol the server selects when a client offers it.
const Subprotocol = "gochat"

// FromRequest picks the token from, in this order, the query's token
// parameter (for wscat and scripts; it can end up in logs), the offered
// subprotocols (Sec-WebSocket-Protocol), or an Authorization header with
// the Bearer scheme in any case.
func FromRequest(queryToken, authorization, protocols string) string {
	if queryToken != "" {
		return queryToken
	}
	for _, p := range strings.Split(protocols, ",") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(p), SubprotocolPrefix); ok && t != "" {
			return t
		}
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}

// OffersSubprotocol reports whether a client offered the gochat subprotocol,
// which the 101 must then select.
func OffersSubprotocol(protocols string) bool {
	for _, p := range strings.Split(protocols, ",") {
		if strings.TrimSpace(p) == Subprotocol {
			return true
		}
	}
	return false
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
