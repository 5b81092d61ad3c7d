import type { FastifyReply } from 'fastify';

/** Adds links to a `Link` header another hook or handler may already have set. */
export function appendLink(reply: FastifyReply, value: string): void {
  if (value === '') return;
  const existing = reply.getHeader('link');
  const current = Array.isArray(existing) ? existing.join(', ') : existing === undefined ? '' : String(existing);
  reply.header('link', current === '' ? value : `${current}, ${value}`);
}

/** Adds a field name to `Vary` without duplicating it. */
export function appendVary(reply: FastifyReply, field: string): void {
  const existing = reply.getHeader('vary');
  const current = Array.isArray(existing) ? existing.join(', ') : existing === undefined ? '' : String(existing);
  const names = current.split(',').map((name) => name.trim().toLowerCase());
  if (names.includes('*') || names.includes(field.toLowerCase())) return;
  reply.header('vary', current === '' ? field : `${current}, ${field}`);
}
