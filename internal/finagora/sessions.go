package finagora

import (
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// Finagora keeps its own sessions, apart from the portal's: a log-in at the
// portal gives Finagora an ID token, and Finagora then remembers the person
// for as long as its own session lasts (or until the portal says, on the
// back channel, that the portal session ended).
//
// The store is in memory because Finagora is a demo: a restart logs everyone
// out, and two instances would not share sessions. A real relying
// application would keep them in its own database, as the portal does.
// Everything here is bounded, so that anonymous requests (every GET /login
// makes a pending log-in) cannot grow memory without limit.

// Lifetimes and bounds.
const (
	sessionIdle     = 30 * time.Minute
	sessionAbsolute = 12 * time.Hour
	maxSessions     = 10_000
	pendingLifetime = 10 * time.Minute
	maxPending      = 10_000
	maxSeenTokens   = 10_000
	// sweepEvery is how often a write also drops what has expired; the store
	// sweeps as it is used, so it needs no goroutine to stop.
	sweepEvery = time.Minute
)

// session is a person logged in to Finagora.
type session struct {
	Sub, SID    string // the portal's subject and session id, for back-channel logout
	Name, Email string
	AccountType string // "tiers", "group" or "client", as the ID token says
	Office      string
	IDToken     string // the raw ID token: id_token_hint at logout; never sent to the browser otherwise
	CSRF        string // the token every POST of this session carries
	Created     time.Time
	LastSeen    time.Time
}

// pendingLogin is a log-in sent to the portal and not yet back.
type pendingLogin struct {
	State, Nonce, Verifier string
	Next                   string // a local path to return to
	Created                time.Time
}

// key is how the store indexes a cookie value: its SHA-256, so that a map
// lookup compares hashes, not the secret itself.
type key [sha256.Size]byte

func keyOf(id string) key { return sha256.Sum256([]byte(id)) }

// newID returns 256 random bits as text (base32): a session or
// pending-log-in id, a state, a nonce or a CSRF token.
func newID() string { return rand.Text() + rand.Text() }

type store struct {
	mu        sync.Mutex
	sessions  map[key]*session
	pending   map[key]*pendingLogin
	seen      map[string]time.Time // logout-token jti → until when it is remembered
	lastSweep time.Time
}

func newStore() *store {
	return &store{sessions: map[key]*session{}, pending: map[key]*pendingLogin{}, seen: map[string]time.Time{}}
}

// sweepLocked drops what has expired, at most once a sweepEvery unless force.
func (st *store) sweepLocked(now time.Time, force bool) {
	if !force && now.Sub(st.lastSweep) < sweepEvery {
		return
	}
	st.lastSweep = now
	for k, s := range st.sessions {
		if s.expired(now) {
			delete(st.sessions, k)
		}
	}
	for k, p := range st.pending {
		if now.Sub(p.Created) >= pendingLifetime {
			delete(st.pending, k)
		}
	}
	for jti, until := range st.seen {
		if !now.Before(until) {
			delete(st.seen, jti)
		}
	}
}

func (s *session) expired(now time.Time) bool {
	return now.Sub(s.LastSeen) >= sessionIdle || now.Sub(s.Created) >= sessionAbsolute
}

// createSession stores s under a new id and returns the id. When the store
// is full even after a sweep, the least recently seen session makes room.
func (st *store) createSession(s session, now time.Time) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sweepLocked(now, false)
	if len(st.sessions) >= maxSessions {
		st.sweepLocked(now, true)
	}
	if len(st.sessions) >= maxSessions {
		evictOldest(st.sessions, func(s *session) time.Time { return s.LastSeen })
	}
	id := newID()
	s.Created, s.LastSeen = now, now
	st.sessions[keyOf(id)] = &s
	return id
}

// session returns a copy of the session with that id and marks it seen;
// false when there is none or it has expired.
func (st *store) session(id string, now time.Time) (session, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := keyOf(id)
	s, ok := st.sessions[k]
	if !ok {
		return session{}, false
	}
	if s.expired(now) {
		delete(st.sessions, k)
		return session{}, false
	}
	s.LastSeen = now
	return *s, true
}

// deleteSession ends the session with that id, if there is one.
func (st *store) deleteSession(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.sessions, keyOf(id))
}

// endPortalSessions ends every session of the portal session sid, or of the
// subject sub when sid is empty; when both are given, both must match. It
// returns how many ended.
func (st *store) endPortalSessions(sid, sub string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for k, s := range st.sessions {
		if (sid != "" && s.SID != sid) || (sub != "" && s.Sub != sub) {
			continue
		}
		delete(st.sessions, k)
		n++
	}
	return n
}

// createPending stores p under a new id and returns the id.
func (st *store) createPending(p pendingLogin, now time.Time) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sweepLocked(now, false)
	if len(st.pending) >= maxPending {
		st.sweepLocked(now, true)
	}
	if len(st.pending) >= maxPending {
		evictOldest(st.pending, func(p *pendingLogin) time.Time { return p.Created })
	}
	id := newID()
	p.Created = now
	st.pending[keyOf(id)] = &p
	return id
}

// takePending removes and returns the pending log-in with that id: a
// pending log-in is used once, whatever the outcome.
func (st *store) takePending(id string, now time.Time) (pendingLogin, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := keyOf(id)
	p, ok := st.pending[k]
	if !ok {
		return pendingLogin{}, false
	}
	delete(st.pending, k)
	if now.Sub(p.Created) >= pendingLifetime {
		return pendingLogin{}, false
	}
	return *p, true
}

// firstUse records a logout token's jti until it expires, and reports
// whether it is the first time it is seen.
func (st *store) firstUse(jti string, until, now time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sweepLocked(now, false)
	if u, ok := st.seen[jti]; ok && now.Before(u) {
		return false
	}
	if len(st.seen) >= maxSeenTokens {
		st.sweepLocked(now, true)
	}
	if len(st.seen) >= maxSeenTokens {
		// Only the portal can sign logout tokens, so this means a flood of
		// real ones: forget the one that expires first.
		var first string
		for j, u := range st.seen {
			if first == "" || u.Before(st.seen[first]) {
				first = j
			}
		}
		delete(st.seen, first)
	}
	st.seen[jti] = until
	return true
}

// evictOldest deletes the entry of m whose time is the earliest; it is
// linear, and runs only when a full store has nothing expired.
func evictOldest[V any](m map[key]*V, at func(*V) time.Time) {
	var oldest key
	var t time.Time
	first := true
	for k, v := range m {
		if first || at(v).Before(t) {
			oldest, t, first = k, at(v), false
		}
	}
	delete(m, oldest)
}
