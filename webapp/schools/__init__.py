"""The school's side (学校): its rectification tasks on the phone and its self-reports (自查/报送)."""
