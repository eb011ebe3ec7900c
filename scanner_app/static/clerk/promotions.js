// Which of the store's promotions (its own and its dealer's) a top-up may use, best first.

export function running(promotion, now = Date.now()) {
  const at = (iso) => (iso ? Date.parse(iso) : null);
  const retired = at(promotion.retired_at), starts = at(promotion.starts_at),
    ends = at(promotion.ends_at);
  return (retired == null || retired > now) && (starts == null || starts <= now) &&
    (ends == null || ends > now);
}

/** Running promotions this paid amount qualifies for: most bonus first, then with a gift. */
export function applicable(promotions, paidFen) {
  return promotions.filter((p) => running(p) && paidFen >= p.min_paid_fen)
    .sort((a, b) => b.bonus_fen - a.bonus_fen || Number(!!b.gift) - Number(!!a.gift));
}
