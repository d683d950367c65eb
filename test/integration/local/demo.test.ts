import { describe, expect, it } from 'vitest';
import { runNpm } from './run-npm.js';

describe('npm start', () => {
  it('tells the story of one payment granted to a family over mTLS, then exits 0 on its own', async () => {
    // Act
    const run = await runNpm('start', [], {});

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const story = run.stdout;
    expect(story).toMatch(/Ada Lovelace \(user-1\) paid: Stripe checkout\.session\.completed evt_\w+/);
    expect(story).toMatch(/then the subscription renewed: invoice\.paid evt_\w+, which names the user only through the subscription/);
    expect(story).toMatch(/Their family is family-1; "premium_features" is granted to all 3 members, the renewal the last event applied/);
    for (const member of ['user-1 (purchaser): granted', 'user-2: granted', 'user-3: granted']) expect(story).toContain(member);
    expect(story).toMatch(/Charles Babbage \(user-2, .*\), family family-1: premium_features granted/);
    expect(story).toMatch(/Mary Somerville \(user-3, .*\), family family-1: premium_features granted/);
    expect(story).toMatch(/contact-service calls went over mutual TLS between SPIFFE identities/);
    expect(story).toMatch(/client spiffe:\/\/jia\.app\/payment-functions {2}cert serial [0-9a-f]{32}\n/);
    expect(story).toMatch(/server spiffe:\/\/jia\.app\/contact-service {4}cert serial [0-9a-f]{32}\n/);
    expect(story).toContain("the client certificate the server saw is the functions' SVID minted above.");
    // The handlers' JSON logs and metrics stay off the story.
    expect(story).not.toMatch(/^\{/m);
    // The demo's own clock, from its first line to everything shut down (npm and tsx start before it).
    const seconds = Number(/^done in (\d+\.\d) s;/m.exec(story)?.[1]);
    expect(seconds).toBeLessThan(15);
  }, 30_000);
});
