.PHONY: run test production
run:  ## Serve the seeded shop on http://localhost:3000
	@bash scripts/run.sh
test: ## Run every test (unit, integration, end-to-end in Chromium)
	@bash scripts/test.sh
production: ## Serve the shop as in production: PostgreSQL, Redis, 2 workers, HTTPS on https://localhost (Caddy)
	@bash scripts/production.sh
