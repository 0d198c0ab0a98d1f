package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"sesame/internal/store"
)

// jwksKids returns the kids the JWKS endpoint publishes.
func (e *testEnv) jwksKids(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get(e.issuer + pathKeys)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Errorf("JWKS key %s is not public", k.KeyID)
		}
		kids = append(kids, k.KeyID)
	}
	return kids
}

// idTokenKid runs a code flow for client and returns the ID token and the
// kid of its JWS header, read with go-jose.
func (e *testEnv) idTokenKid(t *testing.T, client, alg string) (string, string) {
	t.Helper()
	r := e.rp(t, client, alg)
	tok, err := e.exchange(r, e.code(t, r))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	if string(h.Algorithm) != alg {
		t.Errorf("ID token of %s signed with %s, want %s", client, h.Algorithm, alg)
	}
	return raw, h.KeyID
}

// verifyFresh verifies raw with a new go-oidc verifier, which fetches the
// JWKS as published now.
func (e *testEnv) verifyFresh(raw, clientID, alg string) error {
	ctx := context.Background()
	prov, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		return err
	}
	_, err = prov.Verifier(&gooidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{alg}}).Verify(ctx, raw)
	return err
}

// Rotation: the next key is published at once and signs only after the
// delay; the replaced key stays published (and its tokens verify) until
// every token it signed has expired, then disappears.
func TestKeyRotation(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	ctx := context.Background()
	const delay = 15 * time.Minute
	cliRetain := 10 * time.Minute // what 'sesame keys rotate' passes for these clients

	oldRaw, oldKid := e.idTokenKid(t, "rs", "RS256")
	_, oldES := e.idTokenKid(t, "es", "ES256")
	before := e.jwksKids(t) // the instance's key cache is warm
	if !slices.Contains(before, oldKid) || !slices.Contains(before, oldES) || len(before) != 2 {
		t.Fatalf("JWKS %v, want the two signing keys %s %s", before, oldKid, oldES)
	}

	rotated := e.now()
	ids, err := RotateKeys(ctx, e.st, e.ring, rotated, delay, cliRetain)
	if err != nil || len(ids) != 2 {
		t.Fatalf("RotateKeys: %v %v", ids, err)
	}
	// Published at once: by another instance (or this one restarted), and
	// by this one as soon as its key cache (keyCacheTTL) is renewed — far
	// before the key signs.
	other, err := New(ctx, Options{Store: e.st, Keys: e.ring, Issuer: e.issuer, Clients: testClients(""), SessionAbsolute: 12 * time.Hour, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := other.keys.published(ctx, e.now()); err != nil || len(keys) != 4 {
		t.Errorf("another instance publishes %d keys right after the rotation (%v), want 4", len(keys), err)
	}
	e.offset.Add(int64(keyCacheTTL))
	if kids := e.jwksKids(t); len(kids) != 4 || !slices.Contains(kids, ids[0]) || !slices.Contains(kids, ids[1]) {
		t.Errorf("JWKS %v one key-cache lifetime after the rotation, want the old and new keys", kids)
	}
	// Not signing before the delay.
	e.offset.Add(int64(delay - keyCacheTTL - time.Second))
	if _, kid := e.idTokenKid(t, "rs", "RS256"); kid != oldKid {
		t.Errorf("1 s before the delay the ID token is signed with %s, want the old key %s", kid, oldKid)
	}
	lastOldRaw, _ := e.idTokenKid(t, "rs", "RS256")

	// After the delay: the new keys sign, each for its algorithm.
	e.offset.Add(int64(2 * time.Second))
	activated := rotated.Add(delay)
	_, newKid := e.idTokenKid(t, "rs", "RS256")
	_, newES := e.idTokenKid(t, "es", "ES256")
	if newKid == oldKid || !slices.Contains(ids, newKid) || newES == oldES || !slices.Contains(ids, newES) {
		t.Errorf("after the delay: RS256 kid %s, ES256 kid %s; want the new keys %v", newKid, newES, ids)
	}

	// Retention: the old keys stay published until every token they
	// signed has expired, and such a token still verifies.
	var idLife time.Duration
	for _, c := range e.p.clients {
		idLife = max(idLife, c.idLife)
	}
	if e.p.keys.retain < idLife+keyCacheTTL {
		t.Errorf("retention %v is shorter than the ID token lifetime %v and the key cache", e.p.keys.retain, idLife)
	}
	e.offset.Store(int64(time.Until(activated.Add(e.p.keys.retain - time.Second))))
	if kids := e.jwksKids(t); !slices.Contains(kids, oldKid) || !slices.Contains(kids, oldES) || len(kids) != 4 {
		t.Errorf("JWKS %v just before the end of retention, want the old keys still", kids)
	}
	for _, raw := range []string{oldRaw, lastOldRaw} {
		if err := e.verifyFresh(raw, "rs", "RS256"); err != nil {
			t.Errorf("a token of the old key during retention: %v", err)
		}
	}
	// Deleting (RotateKeys's sweep) with the command's retention keeps them too.
	if _, err := RotateKeys(ctx, e.st, e.ring, e.now(), delay, cliRetain); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.st.ListSigningKeys(ctx); !slices.ContainsFunc(list, func(k store.SigningKey) bool { return k.ID == oldKid }) {
		t.Error("the sweep deleted the old key during its retention")
	}

	// After retention: gone from JWKS, and its tokens no longer verify.
	e.offset.Add(int64(2 * time.Second))
	if kids := e.jwksKids(t); slices.Contains(kids, oldKid) || slices.Contains(kids, oldES) || !slices.Contains(kids, newKid) {
		t.Errorf("JWKS %v after retention, want the old keys gone and the new ones there", kids)
	}
	if err := e.verifyFresh(oldRaw, "rs", "RS256"); err == nil {
		t.Error("a token of a retired key still verifies")
	}
	// The sweep deletes a key once its successor has signed for longer
	// than retain.
	e.offset.Store(int64(time.Until(activated.Add(cliRetain + time.Second))))
	if _, err := RotateKeys(ctx, e.st, e.ring, e.now(), delay, cliRetain); err != nil {
		t.Fatal(err)
	}
	list, _ := e.st.ListSigningKeys(ctx)
	for _, k := range list {
		if k.ID == oldKid || k.ID == oldES {
			t.Errorf("key %s (%s gen %d) survived the sweep after retention", k.ID, k.Alg, k.Generation)
		}
	}
}
