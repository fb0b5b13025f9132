# Community models arrive with the community issue (follows, groups, posts, referrals).
