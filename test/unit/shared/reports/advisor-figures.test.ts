import { describe, expect, it } from 'vitest';
import { advisorFollowThrough } from '#shared/advisors/follow-through.ts';
import { newTask } from '#shared/advisors/tasks.ts';
import { renderNightlyReportHtml } from '#shared/reports/render-html.ts';
import { renderTeamEmail } from '#shared/reports/team-email.ts';
import { normalReport } from '#test/support/nightly-reports.ts';

/** Issue 16 point 6: the advisors' follow-through in the nightly report and the team email; a report without advisors shows none. */

const advisors = advisorFollowThrough({
  // The advisor who left still had a task this month: listed, marked as left.
  recentTasks: [newTask({ customerId: 'c7', occasionKey: 'winback#1', campaignId: 'winback', expiresAt: 2 }, 'A09', 1)],
  followUps: { byAdvisor: { A01: { followed: 40, bought: 14, maturing: 2 } }, control: { followed: 35, bought: 7, maturing: 0 } },
  advisors: new Map([
    ['A01', { advisorId: 'A01', store: 'Paris', active: true }],
    ['A09', { advisorId: 'A09', store: 'Paris', active: false }],
  ]),
  orphans: [{ customerId: 'c7', advisorId: 'A09' }],
});

describe('advisors in the nightly report', () => {
  it('the team email gives the tallies per store, the comparison with its counts, and warns of clients waiting for an advisor', () => {
    const email = renderTeamEmail({ ...normalReport(), advisors });
    expect(email.subject).toMatch(/\(\d+ warnings?\)$/);
    expect(email.text).toContain('1 book client has no active advisor (their advisor left): assign a new one (clientele advisors plan).');
    expect(email.text).toContain(
      "Advisors: bought after a task: Bought within 30 days: after an advisor's task 14 of 40 (35%), 2 more still inside the 30 days; comparable clients without a task (held out by the control group of the same campaign and tier) 7 of 35 (20%).",
    );
    expect(email.text).not.toContain('Small samples');
    expect(email.text).toContain('Clients needing a new advisor: 1 (Paris 1): c7');
    expect(email.html).toContain('Clients needing a new advisor');
  });

  it('the report has an advisors section with a row per advisor and per store; none without advisors', () => {
    const html = renderNightlyReportHtml({ ...normalReport(), advisors });
    expect(html).toContain('<h2 id="advisors-h">Advisors: follow-through</h2>');
    expect(html).toContain('A09 (left)');
    expect(html).toContain('14 of 40 (35%), 2 more still inside the 30 days');
    expect(renderNightlyReportHtml(normalReport())).not.toContain('id="advisors"');
    expect(renderTeamEmail(normalReport()).text).not.toContain('Advisor tasks');
  });
});
