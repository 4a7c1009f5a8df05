package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/policy"
	"tresor/social/bluesky"
	"tresor/social/mastodon"
)

// connectors builds the connector of a channel: the networks this binary
// speaks. The gate never imports them.
func connectors(log *slog.Logger) gate.ConnectorFactory {
	return func(ctx context.Context, network string, creds []byte) (tresor.Connector, error) {
		switch network {
		case mastodon.Network:
			var c mastodon.Credentials
			dec := json.NewDecoder(bytes.NewReader(creds))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				return nil, fmt.Errorf("mastodon credentials: %w", err)
			}
			return mastodon.New(c, mastodon.Options{})
		case bluesky.Network:
			c, err := bluesky.ParseCredentials(creds)
			if err != nil {
				return nil, err
			}
			return bluesky.New(ctx, c, bluesky.Options{Logger: log})
		}
		return nil, fmt.Errorf("no connector for %q: Tresor speaks mastodon and bluesky", network)
	}
}

// replyPurpose is the first purpose of the policy that answers people: the
// one the server reads inboxes under.
func replyPurpose(cfg *config) (string, error) {
	pol, err := cfg.loadPolicy()
	if err != nil {
		return "", err
	}
	for _, pu := range pol.Purposes {
		if pu.Outbound == policy.OutboundReply {
			return pu.ID, nil
		}
	}
	return "", nil
}

// withSocial opens the gate with the connectors for fn.
func (m *Main) withSocial(ctx context.Context, cfg config, fn func(g *gate.Gate) error) error {
	pol, err := cfg.loadPolicy()
	if err != nil {
		return err
	}
	if cfg.kek, err = m.kekConfig(&cfg); err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	g, err := datadir.Open(ctx, cfg.gateConfig(false), gate.WithLogger(log), gate.WithPolicy(pol), gate.WithConnectors(connectors(log)))
	if err != nil {
		return err
	}
	defer g.Close()
	return fn(g)
}

// channelAdd is `tresor channel add NETWORK --name N …`.
func (m *Main) channelAdd(ctx context.Context, args []string) error {
	if len(args) < 1 || strings.HasPrefix(args[0], "-") {
		if helpAsked(args) {
			fmt.Fprintln(m.Stderr, "tresor channel add mastodon --name N --server URL [--code CODE]\n"+
				"tresor channel add bluesky --name N --handle H [--service URL]   (app password from TRESOR_BLUESKY_APP_PASSWORD or --app-password-file)\n"+
				"tresor channel add NETWORK --name N --credentials FILE")
			return nil
		}
		return m.missing("tresor channel add needs NETWORK (mastodon or bluesky) and --name")
	}
	network := args[0]
	var cfg config
	var name, server, code, handle, service, pwFile, credsFile string
	fs := m.flags("channel add", &cfg)
	fs.StringVar(&name, "name", "", "a label for the channel, e.g. \"Support on Mastodon\" (required)")
	fs.StringVar(&server, "server", "", "mastodon: the server's address, e.g. https://social.example")
	fs.StringVar(&code, "code", "", "mastodon: the code the server showed after you allowed access (asked for when missing)")
	fs.StringVar(&handle, "handle", "", "bluesky: the company account's handle")
	fs.StringVar(&service, "service", "", "bluesky: the account's server (default "+bluesky.DefaultService+")")
	fs.StringVar(&pwFile, "app-password-file", "", "bluesky: a file holding an app password (never the account's password)")
	fs.StringVar(&credsFile, "credentials", "", "a JSON file with the connector's credentials, instead of the steps above")
	if err := m.parse(fs, &cfg, args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return m.missing("tresor channel add needs --name")
	}
	var creds []byte
	switch {
	case credsFile != "":
		b, err := os.ReadFile(credsFile)
		if err != nil {
			return err
		}
		creds = b
	case network == mastodon.Network:
		if server == "" {
			return m.missing("tresor channel add mastodon needs --server (or --credentials)")
		}
		c, err := m.mastodonAuthorize(ctx, server, code)
		if err != nil {
			return err
		}
		if creds, err = json.Marshal(c); err != nil {
			return err
		}
	case network == bluesky.Network:
		if handle == "" {
			return m.missing("tresor channel add bluesky needs --handle (or --credentials)")
		}
		pw := m.Getenv("TRESOR_BLUESKY_APP_PASSWORD")
		if pwFile != "" {
			b, err := os.ReadFile(pwFile)
			if err != nil {
				return err
			}
			pw = strings.TrimSpace(string(b))
		}
		if pw == "" {
			return m.missing("tresor channel add bluesky needs an app password in TRESOR_BLUESKY_APP_PASSWORD or --app-password-file")
		}
		var err error
		if creds, err = json.Marshal(bluesky.Credentials{Service: service, Handle: handle, AppPassword: pw}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("no connector for %q: Tresor speaks mastodon and bluesky", network)
	}
	return m.withSocial(ctx, cfg, func(g *gate.Gate) error {
		ch, err := g.CreateChannel(system(ctx), tresor.SocialChannelRequest{Network: network, Name: name, Credentials: creds})
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "channel %s: %s on %s as %s\n", ch.ID, ch.Name, ch.Network, ch.Account)
		return nil
	})
}

// mastodonAuthorize registers Tresor on the server and trades the code the
// operator copies from the server's page for an access token.
func (m *Main) mastodonAuthorize(ctx context.Context, server, code string) (mastodon.Credentials, error) {
	app, err := mastodon.Register(ctx, server, "Tresor")
	if err != nil {
		return mastodon.Credentials{}, err
	}
	if code == "" && m.Stdin == nil {
		return mastodon.Credentials{}, fmt.Errorf("open %s, allow access and pass the code the server shows with --code", app.AuthorizeURL)
	}
	if code == "" {
		fmt.Fprintf(m.Stderr, "Open this page, sign in as the company account and allow access:\n\n  %s\n\nthen paste the code the server shows: ", app.AuthorizeURL)
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return mastodon.Credentials{}, errors.New("no code given")
		}
		code = strings.TrimSpace(line)
	}
	return app.Exchange(ctx, code)
}

func (m *Main) channelList(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("channel list", &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		chans, err := g.Channels(system(ctx))
		if err != nil {
			return err
		}
		for _, ch := range chans {
			line := fmt.Sprintf("%s  %-9s %-30s %s", ch.ID, ch.Network, ch.Account, ch.Name)
			if ch.LastError != "" {
				line += "  (last error: " + ch.LastError + ")"
			}
			fmt.Fprintln(m.Stdout, line)
		}
		return nil
	})
}

func (m *Main) channelDelete(ctx context.Context, args []string) error {
	cfg, pos, err := m.positional("channel delete", args, []string{"CHANNEL"}, nil)
	if err != nil || pos == nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error { return g.DeleteChannel(system(ctx), pos[0]) })
}

// positional parses a command's positional arguments (named in names, for
// the message when they are missing) followed by its flags. It returns nil
// arguments when only help was asked for.
func (m *Main) positional(name string, args, names []string, extra func(*flag.FlagSet)) (config, []string, error) {
	var cfg config
	fs := m.flags(name, &cfg)
	if extra != nil {
		extra(fs)
	}
	if helpAsked(args) {
		fmt.Fprintf(m.Stderr, "tresor %s %s [flags]\n", name, strings.Join(names, " "))
		fs.PrintDefaults()
		return cfg, nil, nil
	}
	if len(args) < len(names) || slices.ContainsFunc(args[:len(names)], func(a string) bool { return strings.HasPrefix(a, "-") }) {
		return cfg, nil, m.missing(fmt.Sprintf("tresor %s needs %s", name, strings.Join(names, " ")))
	}
	if err := m.parse(fs, &cfg, args[len(names):]); err != nil {
		return cfg, nil, err
	}
	return cfg, args[:len(names)], nil
}

// channelPost is `tresor channel post CHANNEL TEXT [--at TIME]`.
func (m *Main) channelPost(ctx context.Context, args []string) error {
	var at, purpose string
	cfg, pos, err := m.positional("channel post", args, []string{"CHANNEL", "TEXT"}, func(fs *flag.FlagSet) {
		fs.StringVar(&at, "at", "", "publish later, at this time (2026-12-01T09:00:00+01:00); now when empty")
		fs.StringVar(&purpose, "purpose", "marketing", "the purpose the post serves (one that may advertise)")
	})
	if err != nil || pos == nil {
		return err
	}
	p := &tresor.Post{ChannelID: pos[0], Text: pos[1]}
	if at != "" {
		if p.PublishAt, err = time.Parse(time.RFC3339, at); err != nil {
			return fmt.Errorf("--at %q: give a time like 2026-12-01T09:00:00+01:00", at)
		}
	}
	return m.withSocial(ctx, cfg, func(g *gate.Gate) error {
		p, err := g.SchedulePost(tresor.WithPurpose(system(ctx), purpose), p)
		if err != nil {
			return err
		}
		if p.PublishedAt != nil {
			fmt.Fprintf(m.Stdout, "post %s published: %s\n", p.ID, p.URL)
		} else {
			fmt.Fprintf(m.Stdout, "post %s scheduled for %s (the server publishes it)\n", p.ID, p.PublishAt.Format(time.RFC3339))
		}
		return nil
	})
}

func (m *Main) channelPosts(ctx context.Context, args []string) error {
	var purpose string
	cfg, pos, err := m.positional("channel posts", args, []string{"CHANNEL"}, func(fs *flag.FlagSet) {
		fs.StringVar(&purpose, "purpose", "marketing", "the purpose to list them for")
	})
	if err != nil || pos == nil {
		return err
	}
	id := pos[0]
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		l, err := g.Posts(tresor.WithPurpose(system(ctx), purpose), tresor.PostQuery{ChannelID: id, Page: tresor.Page{Limit: tresor.MaxPageSize}})
		if err != nil {
			return err
		}
		for _, p := range l.Items {
			state := "scheduled " + p.PublishAt.Format(time.RFC3339)
			switch {
			case p.PublishedAt != nil:
				state = "published " + p.PublishedAt.Format(time.RFC3339) + " " + p.URL
			case p.Error != "":
				state = "failed: " + p.Error
			case p.Unconfirmed != "":
				state = "unconfirmed (checked at the next run): " + p.Unconfirmed
			}
			fmt.Fprintf(m.Stdout, "%s  %s  %q\n", p.ID, state, p.Text)
		}
		return nil
	})
}

// channelPoll reads a channel's inbox once, as the server does every
// --social-interval.
func (m *Main) channelPoll(ctx context.Context, args []string) error {
	var purpose string
	cfg, pos, err := m.positional("channel poll", args, []string{"CHANNEL"}, func(fs *flag.FlagSet) {
		fs.StringVar(&purpose, "purpose", "service", "the purpose the inbox is read under (one that answers people)")
	})
	if err != nil || pos == nil {
		return err
	}
	id := pos[0]
	return m.withSocial(ctx, cfg, func(g *gate.Gate) error {
		rep, err := g.PollInbox(tresor.WithPurpose(system(ctx), purpose), id)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "read %d: %d interactions with contacts, %d cases\n", rep.Read, rep.Interactions, rep.Cases)
		for k, n := range rep.Dropped {
			fmt.Fprintf(m.Stdout, "  not stored (%s): %d\n", k, n)
		}
		return nil
	})
}
