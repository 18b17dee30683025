'use strict';
// Names the select2 widgets of the admin's autocomplete fields after the <select> they replace.
// select2 4.0 names its combobox by the selected value only (nothing while empty, and nothing at
// all for a multiple choice) and gives its search box no name, so a screen reader announces
// "combobox" with no field (axe-core: aria-input-field-name, label). The <select> keeps its
// <label>, which we point the widget at. Without JavaScript there is no select2 and nothing to do.
{
    function labelOf(select) {
        const label = select.labels && select.labels[0];
        if (!label) {
            return null;
        }
        if (!label.id) {
            label.id = select.id + '-label';
        }
        return label;
    }

    function name(root) {
        root.querySelectorAll('select.admin-autocomplete').forEach((select) => {
            // select2 puts its container right after the element it replaces.
            const container = select.nextElementSibling;
            const label = labelOf(select);
            if (!label || !container || !container.classList.contains('select2')) {
                return;
            }
            const text = label.textContent.trim().replace(/:$/, '');
            container.querySelectorAll('[role=combobox]').forEach((combobox) => {
                const own = (combobox.getAttribute('aria-labelledby') || '').split(' ');
                if (!own.includes(label.id)) {
                    combobox.setAttribute('aria-labelledby', [label.id, ...own].join(' ').trim());
                }
            });
            // A single choice shows its value in a span that select2 4.0 marks as an unnamed
            // textbox inside the combobox; as plain text it completes the combobox's name
            // ("arm 3: therapy, Rituximab"). select2 4.1 dropped that role too.
            container.querySelectorAll('.select2-selection__rendered[role=textbox]').forEach((value) => {
                value.removeAttribute('role');
                value.removeAttribute('aria-readonly');
            });
            container.querySelectorAll('.select2-search__field').forEach((search) => {
                search.setAttribute('aria-label', text);
            });
        });
    }

    if (window.django && django.jQuery) {
        const $ = django.jQuery;
        // Runs after autocomplete.js's own ready handler, registered before this file loaded.
        $(() => name(document));
        document.addEventListener('formset:added', (event) => name(event.target));
        // The search box of a single choice exists only while its dropdown is open.
        $(document).on('select2:open', 'select.admin-autocomplete', (event) => {
            const label = labelOf(event.target);
            if (label) {
                $('.select2-container--open .select2-search__field')
                    .attr('aria-label', label.textContent.trim().replace(/:$/, ''));
            }
        });
    }
}
