package main

import (
	"context"
	"log/slog"
	"sync"
)

func init() {
	commands["finagora"] = command{"run the Finagora demo application alone", cmdFinagora}
}

func cmdFinagora(ctx context.Context, e env, args []string) error {
	var cf configFlags
	fs := cf.flagSet(e, "finagora")
	addr := fs.String("addr", "localhost:8081", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := cf.load(e)
	if err != nil {
		return err
	}
	if err := c.Sim.Validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, nil))
	var wg sync.WaitGroup
	defer wg.Wait()
	if err := startFinagora(ctx, &wg, c, *addr, log, e); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
