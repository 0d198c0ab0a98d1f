package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"sesame/internal/seal"
	"sesame/internal/store"
)

// Signing keys live in the database, sealed with the keyring, so every
// instance signs with the same keys. Rotation publishes the next key first:
// a key is in JWKS from its creation and becomes the signer at Activates
// (after a delay longer than JWKS caches and keyCacheTTL), and a replaced
// key stays published until every ID token it signed has expired.

// Algorithms, RS256 first: OpenID Connect requires it.
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

const keyCacheTTL = time.Minute

type signingKey struct {
	id        string
	alg       jose.SignatureAlgorithm
	private   crypto.Signer
	created   time.Time
	activates time.Time
	gen       int
}

// op.SigningKey
func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.private }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the op.Key of JWKS.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.private.Public() }

func keyAD(id string) []byte { return []byte("sesame/oidc signing key/" + id) }

func newSigningKey(alg jose.SignatureAlgorithm, gen int, ring *seal.Keyring, now, activates time.Time) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return store.SigningKey{}, fmt.Errorf("oidc: unsupported algorithm %s", alg)
	}
	if err != nil {
		return store.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, err
	}
	id := randomToken(12)
	sealed, err := ring.Seal(der, keyAD(id))
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{ID: id, Alg: string(alg), Generation: gen, Private: sealed, Created: now, Activates: activates}, nil
}

// EnsureKeys creates the first key of each algorithm if there is none. Two
// instances doing it at once end with one key each: the store keeps the
// first of a generation.
func EnsureKeys(ctx context.Context, st store.OIDC, ring *seal.Keyring, now time.Time) error {
	list, err := st.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, alg := range algorithms {
		if hasAlg(list, alg) {
			continue
		}
		k, err := newSigningKey(alg, 1, ring, now, now)
		if err != nil {
			return err
		}
		if _, err := st.AddSigningKey(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func hasAlg(list []store.SigningKey, alg jose.SignatureAlgorithm) bool {
	for _, k := range list {
		if k.Alg == string(alg) {
			return true
		}
	}
	return false
}

// RotateKeys adds the next key of each algorithm, published now and
// signing from now+delay, and deletes keys whose successor has signed for
// longer than retain (no token they signed is still valid). It returns the
// new keys' ids.
func RotateKeys(ctx context.Context, st store.OIDC, ring *seal.Keyring, now time.Time, delay, retain time.Duration) ([]string, error) {
	if err := EnsureKeys(ctx, st, ring, now); err != nil {
		return nil, err
	}
	list, err := st.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, alg := range algorithms {
		gen := 0
		for _, k := range list {
			if k.Alg == string(alg) && k.Generation > gen {
				gen = k.Generation
			}
		}
		k, err := newSigningKey(alg, gen+1, ring, now, now.Add(delay))
		if err != nil {
			return nil, err
		}
		ok, err := st.AddSigningKey(ctx, k)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, k.ID)
		}
	}
	for _, k := range list {
		if !published(list, k, now, retain) {
			if err := st.DeleteSigningKey(ctx, k.ID); err != nil {
				return ids, err
			}
		}
	}
	return ids, nil
}

// published reports whether k belongs in JWKS at now: it is not yet
// replaced, or its successor became the signer less than retain ago.
func published(list []store.SigningKey, k store.SigningKey, now time.Time, retain time.Duration) bool {
	for _, o := range list {
		if o.Alg == k.Alg && o.Generation > k.Generation && !o.Activates.After(now.Add(-retain)) {
			return false
		}
	}
	return true
}

// keyCache caches the parsed keys for keyCacheTTL.
type keyCache struct {
	st     store.OIDC
	ring   *seal.Keyring
	retain time.Duration

	mu     sync.Mutex
	loaded time.Time
	keys   []*signingKey
	raw    []store.SigningKey
}

func (c *keyCache) load(ctx context.Context, now time.Time) ([]*signingKey, []store.SigningKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys != nil && now.Sub(c.loaded) < keyCacheTTL && !now.Before(c.loaded) {
		return c.keys, c.raw, nil
	}
	list, err := c.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]*signingKey, 0, len(list))
	for _, k := range list {
		der, err := c.ring.Open(k.Private, keyAD(k.ID))
		if err != nil {
			return nil, nil, fmt.Errorf("oidc: signing key %s: %w", k.ID, err)
		}
		p, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, nil, fmt.Errorf("oidc: signing key %s: %w", k.ID, err)
		}
		signer, ok := p.(crypto.Signer)
		if !ok {
			return nil, nil, fmt.Errorf("oidc: signing key %s is not a signer", k.ID)
		}
		keys = append(keys, &signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Alg), private: signer, created: k.Created, activates: k.Activates, gen: k.Generation})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].gen < keys[j].gen })
	c.keys, c.raw, c.loaded = keys, list, now
	return keys, list, nil
}

// signer returns the key that signs for alg at now: the newest active one.
func (c *keyCache) signer(ctx context.Context, alg jose.SignatureAlgorithm, now time.Time) (*signingKey, error) {
	keys, _, err := c.load(ctx, now)
	if err != nil {
		return nil, err
	}
	var best *signingKey
	for _, k := range keys {
		if k.alg == alg && !k.activates.After(now) && (best == nil || k.gen > best.gen) {
			best = k
		}
	}
	if best == nil {
		return nil, errors.New("oidc: no active signing key for " + string(alg))
	}
	return best, nil
}

// published returns the keys of JWKS at now.
func (c *keyCache) published(ctx context.Context, now time.Time) ([]*signingKey, error) {
	keys, raw, err := c.load(ctx, now)
	if err != nil {
		return nil, err
	}
	var out []*signingKey
	for _, k := range keys {
		for _, r := range raw {
			if r.ID == k.id && published(raw, r, now, c.retain) {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// randomToken returns n random bytes in unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}
