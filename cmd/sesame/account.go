package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	pwpolicy "sesame/internal/password"
	"sesame/internal/store"
)

func init() {
	commands["account"] = command{"manage accounts: create (more with 'sesame account -h')", cmdAccount}
}

// accountCommands are the subcommands of 'sesame account'; files add theirs.
var accountCommands = map[string]command{
	"create": {"create an account; the password is read from standard input", cmdAccountCreate},
}

func cmdAccount(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "usage: sesame account <command> [flags]\n\ncommands:")
		for n, c := range accountCommands {
			fmt.Fprintf(e.stderr, "  %-15s %s\n", n, c.summary)
		}
		if len(args) == 0 {
			return errors.New("no account command given")
		}
		return nil
	}
	c, ok := accountCommands[args[0]]
	if !ok {
		return fmt.Errorf("unknown account command %q", args[0])
	}
	return c.run(ctx, e, args[1:])
}

// openApp loads the configuration and opens the store for a tool command.
func openApp(ctx context.Context, e env, cf *configFlags) (*app, error) {
	c, err := cf.load(e)
	if err != nil {
		return nil, err
	}
	if c.Database == "" {
		return nil, errors.New("no database: give --data, --database or --config")
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return newApp(ctx, c, log)
}

// identifierError says in a sentence why account.CheckNewIdentifier refused
// the identifier of a new account.
func identifierError(err error) error {
	switch {
	case errors.Is(err, account.ErrIdentifierInvisible):
		return errors.New("--identifier contains an invisible character or a space (a zero-width space or a text-direction mark, for instance): type it by hand instead of pasting it")
	case errors.Is(err, account.ErrIdentifierCharacter):
		return errors.New("--identifier contains a character that is not allowed (a symbol, an emoji or a full-width letter, for instance): type it with ordinary letters")
	case errors.Is(err, account.ErrIdentifierMixedScript):
		return errors.New("--identifier mixes letters from different alphabets (a Cyrillic letter among Latin ones, for instance), so it could pass for another address")
	}
	return errors.New("--identifier must be an e-mail address")
}

func cmdAccountCreate(ctx context.Context, e env, args []string) error {
	var cf configFlags
	fs := cf.flagSet(e, "account create")
	typ := fs.String("type", "", "account type: client, group or tiers")
	identifier := fs.String("identifier", "", "e-mail address")
	name := fs.String("name", "", "display name")
	office := fs.String("office", "", "office name (Tiers accounts; created if new)")
	role := fs.String("role", "", "office_admin or support")
	lang := fs.String("lang", "fr", "language of the account's e-mails: fr, nl or en")
	operator := fs.String("operator", "", "your name, for the audit log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t, err := typeFlag(*typ)
	if err != nil {
		return err
	}
	id, err := account.CheckNewIdentifier(*identifier)
	if err != nil {
		return identifierError(err)
	}
	r, ok := account.ParseRole(*role)
	if !ok || (r == account.RoleOfficeAdmin && t != account.Tiers) || (r == account.RoleSupport && t != account.Group) {
		return errors.New("--role must be office_admin (Tiers accounts) or support (Group accounts)")
	}
	if t == account.Tiers && *office == "" {
		return errors.New("a Tiers account needs --office")
	}
	l, ok := i18n.Parse(*lang)
	if !ok {
		return errors.New("--lang must be fr, nl or en")
	}
	if *operator == "" {
		return errors.New("--operator is required (it goes in the audit log)")
	}
	// The password comes from standard input, never from the command line
	// (where other users of the machine could read it).
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("give the password on standard input")
	}
	password := strings.TrimRight(line, "\r\n")
	if err := pwpolicy.Check(password, id); err != nil {
		return fmt.Errorf("password refused: %w", err)
	}
	a, err := openApp(ctx, e, &cf)
	if err != nil {
		return err
	}
	defer a.store.Close()
	hash, err := a.auth.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	now := time.Now()
	acc := account.Account{Type: t, Identifier: id, Name: strings.TrimSpace(*name), Role: r, Lang: l, PasswordHash: hash, Created: now}
	err = a.store.InTx(ctx, func(tx store.Store) error {
		if *office != "" {
			o, err := tx.FindOffice(ctx, *office)
			if errors.Is(err, store.ErrNotFound) {
				o = account.Office{Name: *office, Created: now}
				err = tx.CreateOffice(ctx, &o)
			}
			if err != nil {
				return err
			}
			acc.OfficeID = o.ID
		}
		if err := tx.CreateAccount(ctx, &acc); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEvent{Time: now, Actor: *operator, SubjectID: acc.ID, Subject: acc.Identifier,
			OfficeID: acc.OfficeID, Action: "account_create", Outcome: auth.OutcomeSuccess, Addr: "command line"})
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("a %s account %s already exists", t, id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created %s account %s (id %d)\n", t, id, acc.ID)
	return nil
}

// typeFlag parses the --type flag every account command takes.
func typeFlag(v string) (account.Type, error) {
	t, ok := account.ParseType(v)
	if !ok {
		return "", errors.New("--type must be client, group or tiers")
	}
	return t, nil
}
