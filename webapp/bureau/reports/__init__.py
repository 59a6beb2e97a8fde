"""What the bureau takes away: XLSX ledgers (台账), the printed term summary and visit report PDFs."""
