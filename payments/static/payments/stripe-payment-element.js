/* The Stripe Payment Element on the checkout page
 * (payments/templates/payments/stripe_payment_element.html).
 *
 * Reads the publishable key, the PaymentIntent's client secret and the return address from
 * the form's data attributes, mounts the card fields (Stripe's iframes) and confirms the
 * payment on submit. Card data never touches Sésame: it goes from Stripe's iframe to Stripe.
 * Whether the order is paid is decided by the server, from Stripe's verified webhook; the
 * return page only shows where the payment stands.
 *
 * A file of its own: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  function ready(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback);
    } else {
      callback();
    }
  }

  function show(message, text) {
    message.textContent = text;
    message.hidden = !text;
  }

  ready(function () {
    var form = document.querySelector("form[data-stripe-payment]");
    if (!form) {
      return;
    }
    var message = form.querySelector("[data-stripe-message]");
    var button = form.querySelector("button[type=submit]");
    if (typeof window.Stripe !== "function") {
      show(message, form.dataset.unavailable);
      return;
    }
    var stripe = window.Stripe(form.dataset.publishableKey, {
      locale: document.documentElement.lang || "fr"
    });
    var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
    var paymentElement = elements.create("payment");
    paymentElement.on("ready", function () {
      button.disabled = false;
    });
    paymentElement.mount(form.querySelector("[data-stripe-element]"));

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      show(message, "");
      stripe
        .confirmPayment({
          elements: elements,
          confirmParams: { return_url: form.dataset.returnUrl }
        })
        .then(function (result) {
          // Reached only when the confirmation failed at once (declined card, invalid
          // field); otherwise the browser is already on its way to the return address.
          if (result.error) {
            show(message, result.error.message || form.dataset.failed);
            button.disabled = false;
          }
        });
    });
  });
})();
