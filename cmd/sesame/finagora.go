package main

import (
	"context"
	"flag"
	"log/slog"
	"sync"
)

func init() {
	commands["finagora"] = command{"run the Finagora demo application alone", cmdFinagora}
}

func cmdFinagora(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("finagora", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var cf configFlags
	cf.register(fs)
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
