.PHONY: run test
run:  ## Serve the seeded shop on http://localhost:3000
	@bash scripts/run.sh
test: ## Run every test (unit, integration, end-to-end in Chromium)
	@bash scripts/test.sh
