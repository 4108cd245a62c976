// Card form of the checkout's payment step (Stripe.js, or the local sandbox's stand-in).
// Card data stays in Stripe.js: the server only ever receives a token id.
// The payment step renders this script and a #card-element carrying the publishable key in data-key;
// the card form mounts itself whenever that element appears (first visit, reload, or a later order).
if (!window.vxCheckout) window.vxCheckout = {
  stripe: null,
  card: null,

  // Mount the card element once Stripe.js has loaded (the script tag has no load event in Reflex).
  mountCard(publishableKey, tries = 0) {
    if (!window.Stripe) {
      if (tries < 200) setTimeout(() => this.mountCard(publishableKey, tries + 1), 50);
      return;
    }
    const el = document.getElementById("card-element");
    if (!el || el.dataset.mounted) return;
    this.stripe = window.Stripe(publishableKey);
    this.card = this.stripe.elements().create("card");
    this.card.mount(el);
    el.dataset.mounted = "1";
  },

  // A JSON string for the server: {token} or {error} in words a client understands.
  async tokenize(acceptedBrands, brandMessage) {
    if (!this.stripe || !this.card) {
      return JSON.stringify({ error: "The secure payment form is still loading. Please try again in a moment." });
    }
    let r;
    try {
      r = await this.stripe.createToken(this.card);
    } catch (e) {
      return JSON.stringify({ error: "The payment service could not be reached. Nothing was charged; please try again." });
    }
    if (r.error) {
      const m = r.error.message || "";
      return JSON.stringify({
        error: "Please check your card number, expiry date (MM / YY) and security code." +
          (m && m !== "Bad request" ? " (" + m + ")" : ""),
      });
    }
    const brand = ((r.token.card && r.token.card.brand) || "").toLowerCase().replace(/[\s_-]+/g, "");
    if (!acceptedBrands.includes(brand)) return JSON.stringify({ error: brandMessage });
    return JSON.stringify({ token: r.token.id });
  },

  // 3-D Secure: the issuer's challenge; the server then asks the provider what became of it.
  async confirm(clientSecret) {
    const r = await this.stripe.confirmCardPayment(clientSecret);
    return JSON.stringify({ ok: !r.error });
  },
};

if (!window.vxCheckoutWatching) {
  window.vxCheckoutWatching = true;
  const mountWhenShown = () => {
    const el = document.getElementById("card-element");
    if (el && el.dataset.key && !el.dataset.mounted) window.vxCheckout.mountCard(el.dataset.key);
  };
  new MutationObserver(mountWhenShown).observe(document.documentElement, { childList: true, subtree: true });
  mountWhenShown();
}
