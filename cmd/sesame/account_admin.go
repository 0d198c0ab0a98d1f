package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"sesame/internal/account"
	"sesame/internal/admin"
	"sesame/internal/store"
)

// Helped recovery from the command line (SPEC 3): support staff's actions
// of the administration console, for bulk and scripted work. They go
// through package admin like the console, so they are recorded in the same
// audit log (actor: the --operator name) and send the same e-mails — queued
// in the outbox, delivered by the running portal's mail worker.
func init() {
	for name, action := range map[string]admin.Action{
		"reset-totp":     admin.ResetTOTP,
		"reset-question": admin.ResetQuestion,
		"unlock":         admin.Unlock,
		"disable":        admin.Disable,
		"enable":         admin.Enable,
	} {
		accountCommands[name] = command{actionSummaries[action], func(ctx context.Context, e env, args []string) error {
			return cmdAccountAction(ctx, e, name, action, args)
		}}
	}
	accountCommands["list"] = command{"search accounts (by e-mail, name or office)", cmdAccountList}
	accountCommands["audit"] = command{"export the audit log as CSV", cmdAccountAudit}
}

var actionSummaries = map[admin.Action]string{
	admin.ResetTOTP:     "unlink the authenticator: the next login goes through the wizard",
	admin.ResetQuestion: "clear the security question: the wizard asks for a new one",
	admin.Unlock:        "clear the failure count and the lock",
	admin.Disable:       "refuse every login and end the sessions",
	admin.Enable:        "allow logins again",
}

// maxBatch bounds the identifiers one run reads from standard input.
const maxBatch = 100_000

// openAdmin opens the store and the administration service for operator.
func openAdmin(ctx context.Context, e env, cf *configFlags, operator string) (*app, *admin.Service, admin.Actor, error) {
	actor := admin.Actor{Operator: strings.TrimSpace(operator), Addr: "command line"}
	if actor.Operator == "" || len(actor.Operator) > admin.MaxOperator || strings.ContainsAny(actor.Operator, "\r\n\x00") {
		return nil, nil, actor, fmt.Errorf("--operator is required: your name, up to %d bytes (it goes in the audit log)", admin.MaxOperator)
	}
	a, err := openApp(ctx, e, cf)
	if err != nil {
		return nil, nil, actor, err
	}
	svc := &admin.Service{Store: a.store, Hasher: a.auth.Hasher, Mail: a.auth.Mail, Now: time.Now, Log: a.log}
	return a, svc, actor, nil
}

func cmdAccountAction(ctx context.Context, e env, name string, action admin.Action, args []string) error {
	var cf configFlags
	fs := cf.flagSet(e, "account "+name)
	operator := fs.String("operator", "", "your name, for the audit log and the owner's e-mail (required)")
	typ := fs.String("type", "", "account type: client, group or tiers (required)")
	identifier := fs.String("identifier", "", "the account's e-mail address; - reads one per line from standard input")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	t, err := typeFlag(*typ)
	if err != nil {
		return err
	}
	if *identifier == "" {
		return errors.New("--identifier is required (- reads them from standard input)")
	}
	ids := []string{*identifier}
	if *identifier == "-" {
		var err error
		if ids, err = readIdentifiers(e.stdin); err != nil {
			return err
		}
	}
	a, svc, actor, err := openAdmin(ctx, e, &cf, *operator)
	if err != nil {
		return err
	}
	defer a.store.Close()

	// Each account is its own transaction: one failure does not undo the
	// others, and every line of output says what happened to whom.
	failed := 0
	for _, raw := range ids {
		outcome, err := actOn(ctx, svc, actor, action, t, raw)
		if err != nil {
			failed++
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", raw, outcome)
	}
	if failed > 0 {
		return fmt.Errorf("%s: %d of %d accounts failed", name, failed, len(ids))
	}
	return nil
}

// actOn does action to one account and says how it went, in a word or two.
func actOn(ctx context.Context, svc *admin.Service, actor admin.Actor, action admin.Action, t account.Type, raw string) (string, error) {
	id, err := account.NormalizeIdentifier(raw)
	if err != nil {
		return "invalid identifier", err
	}
	acc, err := svc.Store.FindAccount(ctx, t, id)
	if errors.Is(err, store.ErrNotFound) {
		return "not found", err
	} else if err != nil {
		return "error: " + err.Error(), err
	}
	_, err = svc.Act(ctx, actor, action, acc.ID)
	switch {
	case err == nil:
		return "done", nil
	case errors.Is(err, admin.ErrUnchanged):
		// Already in the wanted state: a re-run of a script is not a failure.
		return "unchanged", nil
	case errors.Is(err, admin.ErrNotFound):
		return "not found", err
	}
	return "error: " + err.Error(), err
}

// readIdentifiers reads one identifier per line, skipping blank lines and
// # comments.
func readIdentifiers(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(ids) == maxBatch {
			return nil, fmt.Errorf("more than %d identifiers on standard input", maxBatch)
		}
		ids = append(ids, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading identifiers: %w", err)
	}
	if len(ids) == 0 {
		return nil, errors.New("no identifier on standard input")
	}
	return ids, nil
}

func cmdAccountList(ctx context.Context, e env, args []string) error {
	var cf configFlags
	fs := cf.flagSet(e, "account list")
	operator := fs.String("operator", "", "your name (required)")
	query := fs.String("query", "", "part of the e-mail, the name or the office's name")
	typ := fs.String("type", "", "only this account type: client, group or tiers")
	office := fs.String("office", "", "only this office (exact name)")
	page := fs.Int("page", 1, "page of results ("+strconv.Itoa(admin.PageSize)+" a page)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	q := admin.Query{Text: *query, Page: *page}
	if *typ != "" {
		t, err := typeFlag(*typ)
		if err != nil {
			return err
		}
		q.Type = t
	}
	a, svc, actor, err := openAdmin(ctx, e, &cf, *operator)
	if err != nil {
		return err
	}
	defer a.store.Close()
	if *office != "" {
		o, err := a.store.FindOffice(ctx, *office)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no office named %q", *office)
		} else if err != nil {
			return err
		}
		q.OfficeID = o.ID
	}
	res, err := svc.Search(ctx, actor, q)
	var inv *admin.InvalidError
	if errors.As(err, &inv) {
		return fmt.Errorf("invalid search (%s)", inv.Key)
	} else if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tIDENTIFIER\tNAME\tOFFICE\tROLE\tAUTHENTICATOR\tQUESTION\tSTATE\tLAST LOGIN")
	for _, s := range res.Accounts {
		state := "active"
		switch {
		case s.Disabled:
			state = "disabled"
		case s.Locked(now):
			state = "locked until " + s.LockedUntil.Local().Format("2006-01-02 15:04")
		}
		last := "never"
		if !s.LastLogin.IsZero() {
			last = s.LastLogin.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Type, s.Identifier, oneLine(s.Name), oneLine(s.OfficeName),
			s.Role, yesNo(s.Linked, "linked", "none"), yesNo(s.HasQuestion(), "set", "none"), state, last)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "page %d of %d, %d accounts\n", res.Page, res.Pages, res.Total)
	return nil
}

func cmdAccountAudit(ctx context.Context, e env, args []string) error {
	var cf configFlags
	fs := cf.flagSet(e, "account audit")
	operator := fs.String("operator", "", "your name (required)")
	typ := fs.String("type", "", "with --identifier: the account type")
	identifier := fs.String("identifier", "", "only events about this account")
	from := fs.String("from", "", "first day, YYYY-MM-DD (UTC)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (UTC), included")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var f admin.AuditFilter
	for _, d := range []struct {
		flag, value string
		into        *time.Time
		next        bool
	}{{"--from", *from, &f.From, false}, {"--to", *to, &f.To, true}} {
		if d.value == "" {
			continue
		}
		day, err := time.Parse(time.DateOnly, d.value)
		if err != nil {
			return fmt.Errorf("%s must be a date, YYYY-MM-DD", d.flag)
		}
		if d.next {
			day = day.AddDate(0, 0, 1) // the filter's end is exclusive
		}
		*d.into = day
	}
	a, svc, actor, err := openAdmin(ctx, e, &cf, *operator)
	if err != nil {
		return err
	}
	defer a.store.Close()
	if *identifier != "" {
		t, ok := account.ParseType(*typ)
		if !ok {
			return errors.New("--identifier needs --type client, group or tiers")
		}
		id, err := account.NormalizeIdentifier(*identifier)
		if err != nil {
			return errors.New("--identifier must be an e-mail address")
		}
		acc, err := a.store.FindAccount(ctx, t, id)
		if err != nil {
			return fmt.Errorf("%s account %s: %w", t, id, err)
		}
		f.AccountID = acc.ID
	}
	err = svc.ExportAuditCSV(ctx, actor, f, e.stdout)
	var inv *admin.InvalidError
	if errors.As(err, &inv) {
		return fmt.Errorf("invalid filter (%s)", inv.Key)
	}
	return err
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// oneLine keeps a stored name from breaking the table (or the terminal).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
