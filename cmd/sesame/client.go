package main

import (
	"context"
	"errors"
	"fmt"

	"sesame/internal/oidc"
)

func init() {
	commands["client"] = command{"print a new OpenID Connect client secret and its hash (client secret)", cmdClient}
}

// cmdClient prints a new client secret (for the relying application) and
// the secret_hash to put in Sesame's configuration.
func cmdClient(ctx context.Context, e env, args []string) error {
	if len(args) != 1 || args[0] != "secret" {
		return errors.New("usage: sesame client secret")
	}
	secret, hash := oidc.NewClientSecret()
	fmt.Fprintf(e.stdout, "client_secret: %s\nsecret_hash: %s\n", secret, hash)
	return nil
}
