import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/** axe-core's WCAG checks on the page as it stands (or the part `include` selects): no violation. */
export async function expectNoAxeViolations(page: Page, label: string, include?: string): Promise<void> {
	const builder = new AxeBuilder({ page });
	const axe = await (include ? builder.include(include) : builder).analyze();
	console.log(
		`${label} axe: ${axe.passes.length} rules passed, ${axe.violations.length} violations, ${axe.incomplete.length} incomplete`
	);
	expect(axe.violations.map(({ id, help, nodes }) => ({ id, help, nodes: nodes.length }))).toEqual([]);
}
