package policy

import (
	"strings"

	"tresor"
)

// AdvertisingConsentPurpose is the purpose whose consent advertising needs,
// whichever purpose sends it: consent to advertising is consent to marketing.
const AdvertisingConsentPurpose = "marketing"

// ReachFacts are what the outbound gate knows about a person before a message.
type ReachFacts struct {
	Purpose *Purpose
	Channel tresor.ConsentChannel
	// Advertising: the message advertises. Messages of a purpose whose
	// outbound is advertising always count as advertising.
	Advertising bool
	Restricted  bool
	Objected    bool // the person objected to marketing
	Suppressed  bool // an identifier of the person is on the suppression list
	HasAddress  bool // Tresor holds an address for the channel
	// Consent is the state of the person's consent to marketing on the
	// channel, with expiry already applied.
	Consent    tresor.ConsentState
	ExpiryDays int
	// InboundConversation: the person started a conversation on this channel recently.
	InboundConversation bool
	// Contract: the person's data is held under a contract or a legal obligation.
	Contract bool
}

// DecideReach is the outbound gate's rule: default deny; advertising needs
// granted consent for marketing on that exact channel and no objection; a
// reply without advertising is allowed in a conversation the person started
// or under a contract. It lists every reason that applies.
func (p *Policy) DecideReach(f ReachFacts) tresor.ReachDecision {
	var deny, allow []tresor.Reason
	pu := f.Purpose
	channel := channelName(f.Channel)
	if pu.Outbound == OutboundNone {
		deny = append(deny, Explain(RNoOutbound, pu.ID))
	}
	if f.Restricted {
		deny = append(deny, Explain(RRestricted))
	}
	if !f.HasAddress {
		deny = append(deny, Explain(RNoAddress, channel))
	}
	advertising := f.Advertising || pu.Outbound == OutboundAdvertising
	switch {
	case pu.Outbound == OutboundNone:
	case advertising:
		if f.Advertising && pu.Outbound == OutboundReply {
			deny = append(deny, Explain(RAdvertisingInReply))
		}
		if f.Objected {
			deny = append(deny, Explain(RObjected))
		}
		if f.Suppressed {
			deny = append(deny, Explain(RSuppressed))
		}
		target := AdvertisingConsentPurpose + " / " + string(f.Channel)
		switch f.Consent {
		case tresor.ConsentGranted:
			allow = append(allow, Explain(RConsentGranted, AdvertisingConsentPurpose, string(f.Channel)))
		case tresor.ConsentPending:
			deny = append(deny, Explain(RConsentPending, target))
		case tresor.ConsentWithdrawn:
			deny = append(deny, Explain(RConsentWithdrawn, target))
		case tresor.ConsentExpired:
			deny = append(deny, Explain(RConsentExpired, target, f.ExpiryDays))
		default:
			deny = append(deny, Explain(RConsentMissing, channel, target))
		}
	case f.InboundConversation:
		allow = append(allow, Explain(RReplyInbound))
	case f.Contract:
		allow = append(allow, Explain(RReplyContract))
	default:
		deny = append(deny, Explain(RNoConversation, pu.ID))
	}
	if len(deny) > 0 {
		return tresor.ReachDecision{Allowed: false, Reasons: deny}
	}
	return tresor.ReachDecision{Allowed: true, Reasons: allow}
}

// channelName names a channel in a sentence, in both languages.
func channelName(c tresor.ConsentChannel) both {
	switch c {
	case tresor.ChannelEmailMsg:
		return both{"e-mail", "E-Mail"}
	case tresor.ChannelPhoneCall:
		return both{"phone", "Telefon"}
	case tresor.ChannelPostal:
		return both{"post", "Post"}
	}
	n := c.Network()
	if n != "" {
		n = strings.ToUpper(n[:1]) + n[1:]
	}
	if strings.HasPrefix(string(c), tresor.SocialDM) {
		return both{n + " direct message", n + "-Direktnachricht"}
	}
	return both{n + " mention", n + "-Erwähnung"}
}

// ExclusionReason explains why a person is left out of a campaign on the channel.
func (p *Policy) ExclusionReason(code string, channel tresor.ConsentChannel) tresor.Reason {
	target := AdvertisingConsentPurpose + " / " + string(channel)
	switch code {
	case RConsentMissing:
		return Explain(code, channelName(channel), target)
	case RConsentPending, RConsentWithdrawn:
		return Explain(code, target)
	case RConsentExpired:
		return Explain(code, target, p.Consent.ExpiryDays)
	case RNoAddress:
		return Explain(code, channelName(channel))
	}
	return Explain(code)
}
