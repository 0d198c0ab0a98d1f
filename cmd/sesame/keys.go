package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sesame/internal/oidc"
)

func init() {
	commands["keys"] = command{"rotate the OpenID Connect signing keys (keys rotate)", cmdKeys}
}

// cmdKeys rotates the signing keys without logging anyone out: the new keys
// are published at once and sign only after --delay (longer than JWKS
// caches); keys replaced long enough ago that no token they signed is still
// valid are deleted.
func cmdKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: sesame keys rotate [--delay 15m] [--config FILE]")
	}
	var cf configFlags
	fs := cf.flagSet(e, "keys rotate")
	delay := fs.Duration("delay", 0, "how long the new keys are published before they sign (default: oidc.key_rotation_delay, or 15m)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := cf.load(e)
	if err != nil {
		return err
	}
	ring, err := c.Keyring()
	if err != nil {
		return err
	}
	if *delay == 0 {
		*delay = c.OIDC.KeyRotationDelay
	}
	if *delay == 0 {
		*delay = 15 * time.Minute
	}
	retain := 10 * time.Minute // the longest default token lifetime and the key cache, with margin
	for _, cl := range c.OIDC.Clients {
		retain = max(retain, cl.IDTokenLifetime+5*time.Minute)
	}
	st, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer st.Close()
	ids, err := oidc.RotateKeys(ctx, st, ring, time.Now().UTC(), *delay, retain)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "published %d new signing keys; they sign from %s\n", len(ids), time.Now().Add(*delay).UTC().Format(time.RFC3339))
	return nil
}
